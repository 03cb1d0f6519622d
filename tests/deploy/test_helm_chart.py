"""The Helm chart renders to valid Kubernetes objects that keep the relay's promises.

helm itself is not installed here, so deploy.gotemplate renders the templates (it refuses any
construct outside the subset it implements) and kubernetes-validate checks every object
against the Kubernetes API schemas that ship inside that package.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import kubernetes_validate
import pytest
import yaml

from deploy.conftest import DEPLOY, settings_env_names
from deploy.gotemplate import TemplateError, render

CHART = DEPLOY / "helm" / "confide"
KUBERNETES_VERSION = "1.30.0"

PRODUCTION_VALUES: dict[str, Any] = {
    "replicaCount": 3,
    "database": {"url": "postgresql+asyncpg://confide:pw@db:5432/confide"},
    "redisUrl": "redis://redis:6379/0",
    "turnSecret": "a-long-enough-turn-secret",
    "ingress": {
        "enabled": True,
        "className": "nginx",
        "host": "relay.example.org",
        "tlsSecretName": "relay-tls",
        "annotations": {"nginx.ingress.kubernetes.io/proxy-read-timeout": "3600"},
    },
    "extraEnv": [{"name": "CONFIDE_MAX_QUEUE_DEPTH", "value": "5000"}],
    "turnUrls": ["turn:turn.example.org:3478?transport=udp"],
    "nodeSelector": {"kubernetes.io/os": "linux"},
    "networkPolicy": {"enabled": True, "ingressNamespace": "ingress-nginx"},
}


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def render_chart(overrides: dict[str, Any]) -> list[dict[str, Any]]:
    """Renders every manifest template as `helm template` would, returning the objects."""
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    values = _merge(yaml.safe_load((CHART / "values.yaml").read_text()), overrides)
    context = {
        "Values": values,
        "Release": {"Name": "rel", "Namespace": "confide", "Service": "Helm"},
        "Chart": {
            "Name": chart["name"],
            "Version": chart["version"],
            "AppVersion": chart["appVersion"],
        },
    }
    objects: list[dict[str, Any]] = []
    for path in sorted((CHART / "templates").iterdir()):
        text = render(path.read_text(), context)
        if path.suffix != ".yaml":
            continue
        objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return objects


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def relay_container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (deployment,) = by_kind(objects, "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


@pytest.mark.parametrize(
    "overrides", [{"turnSecret": "a-long-enough-turn-secret"}, PRODUCTION_VALUES]
)
def test_every_rendered_object_matches_the_kubernetes_schema(overrides: dict[str, Any]) -> None:
    objects = render_chart(overrides)
    assert objects
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_default_values_give_one_sqlite_pod_on_a_volume() -> None:
    objects = render_chart({"turnSecret": "a-long-enough-turn-secret"})
    assert sorted(o["kind"] for o in objects) == [
        "Deployment",
        "PersistentVolumeClaim",
        "Secret",
        "Service",
    ]
    (deployment,) = by_kind(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    # Two pods must never open one SQLite file, so the old pod goes before the new one starts.
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    (pvc,) = by_kind(objects, "PersistentVolumeClaim")
    assert volumes["data"]["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]
    env_names = {e["name"] for e in relay_container(objects)["env"]}
    assert "CONFIDE_DATABASE_URL" not in env_names
    assert "CONFIDE_REDIS_URL" not in env_names


def test_production_values_give_replicas_on_postgres_and_redis_behind_an_ingress() -> None:
    objects = render_chart(PRODUCTION_VALUES)
    assert not by_kind(objects, "PersistentVolumeClaim")
    (deployment,) = by_kind(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    env = {e["name"]: e for e in relay_container(objects)["env"]}
    assert env["CONFIDE_REDIS_URL"]["value"] == "redis://redis:6379/0"
    assert env["CONFIDE_MAX_QUEUE_DEPTH"]["value"] == "5000"
    assert json.loads(env["CONFIDE_TURN_URLS"]["value"]) == PRODUCTION_VALUES["turnUrls"]
    (secret,) = by_kind(objects, "Secret")
    ref = env["CONFIDE_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert ref["name"] == secret["metadata"]["name"]
    assert ref["key"] in secret["data"]
    (ingress,) = by_kind(objects, "Ingress")
    (service,) = by_kind(objects, "Service")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert ingress["spec"]["tls"][0]["secretName"] == "relay-tls"


def test_the_service_and_network_policy_select_the_relay_pods() -> None:
    objects = render_chart(PRODUCTION_VALUES)
    (deployment,) = by_kind(objects, "Deployment")
    (service,) = by_kind(objects, "Service")
    (policy,) = by_kind(objects, "NetworkPolicy")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod_labels.items()
    (rule,) = policy["spec"]["ingress"]
    assert rule["ports"] == [{"port": 8000, "protocol": "TCP"}]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


def test_the_relay_runs_unprivileged_with_health_probes() -> None:
    objects = render_chart(PRODUCTION_VALUES)
    (deployment,) = by_kind(objects, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["automountServiceAccountToken"] is False
    container = relay_container(objects)
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["args"][0] == "serve"


def test_existing_secret_replaces_the_charts_secret() -> None:
    objects = render_chart({"existingSecret": "ops-managed", "database": {"url": "x"}})
    assert not by_kind(objects, "Secret")
    env = {e["name"]: e for e in relay_container(objects)["env"]}
    for name in ("CONFIDE_TURN_SECRET", "CONFIDE_DATABASE_URL"):
        assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "ops-managed"


def test_a_missing_turn_secret_refuses_to_render() -> None:
    with pytest.raises(TemplateError, match="turnSecret"):
        render_chart({})


def test_every_confide_variable_is_a_relay_setting() -> None:
    known = settings_env_names()
    for overrides in ({"turnSecret": "a-long-enough-turn-secret"}, PRODUCTION_VALUES):
        names = {e["name"] for e in relay_container(render_chart(overrides))["env"]}
        unknown = {n for n in names if n.startswith("CONFIDE_")} - known
        assert not unknown, f"not settings of the relay: {sorted(unknown)}"


def test_notes_render() -> None:
    text = render(
        (CHART / "templates" / "NOTES.txt").read_text(),
        {"Values": {}, "Release": {"Name": "rel", "Namespace": "ns"}, "Chart": {"AppVersion": "1"}},
    )
    assert "rel-confide" in text


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("a\n  {{- if .Values.x }}\nyes{{ else }}no{{ end }}", "a\nyes"),
        ("{{ if not .Values.y }}empty{{ end }}", "empty"),
        ("{{ .Values.x | quote }}", '"1"'),
        ("k:{{- toYaml .Values.m | nindent 2 }}", "k:\n  a: 1\n  b: 2"),
        ("{{ if and .Values.x (not .Values.y) }}ok{{ end }}", "ok"),
    ],
)
def test_renderer_follows_go_template_rules(template: str, expected: str) -> None:
    context = {"Values": {"x": 1, "y": "", "m": {"b": 2, "a": 1}}}
    assert render(template, context) == expected


@pytest.mark.parametrize(
    "template",
    [
        '{{ include "x" . }}',
        "{{ range .Values.x }}{{ end }}",
        "{{ lower .Values.x }}",
        "{{ if 1 }}",
    ],
)
def test_renderer_refuses_what_it_does_not_implement(template: str) -> None:
    with pytest.raises(TemplateError):
        render(template, {"Values": {"x": 1}})


def test_the_schema_check_rejects_a_broken_object() -> None:
    # Shows the validator is live: a port given as text and an unknown field both fail.
    broken = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "x"},
        "spec": {"ports": [{"port": "http"}], "bogus": 1},
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_relay_accepts_the_rendered_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from confide_server.settings import Settings

    for name, value in {
        e["name"]: e.get("value") for e in relay_container(render_chart(PRODUCTION_VALUES))["env"]
    }.items():
        if name.startswith("CONFIDE_") and value is not None:
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("CONFIDE_TURN_SECRET", "a-long-enough-turn-secret")
    settings = Settings()
    assert settings.env == "production"
    assert settings.turn_urls == PRODUCTION_VALUES["turnUrls"]
    assert settings.max_queue_depth == 5000
