"""The OpenAPI document describes errors as the relay sends them: application/problem+json."""

from __future__ import annotations

from confide_server.api.types import Problem
from confide_server.app import create_app
from confide_server.settings import Settings


def test_every_error_response_is_a_problem_document(tmp_path: object) -> None:
    document = create_app(Settings(data_dir=tmp_path, web_dist=None)).openapi()
    required = {name for name, field in Problem.model_fields.items() if field.is_required()}
    assert set(document["components"]["schemas"]["Problem"]["required"]) == required
    errors = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if not status.startswith(("4", "5")) or status == "422":
                    continue
                errors += 1
                content = response["content"]
                where = f"{method.upper()} {path} {status}"
                assert list(content) == ["application/problem+json"], where
                schema = content["application/problem+json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}, where
    assert errors > 300
