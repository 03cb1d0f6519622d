"""Testing a program that uses the SDK against the real relay, started in the test's process.

Install the extra that brings the relay in (``confide-client[testing]``, which depends on
confide-server); the SDK itself never imports it. Then, inside an async test::

    from confide_client.testing import relay

    async with relay(tmp_path) as local:
        worker = await local.worker()              # a device, enrolled with a fresh code
        await worker.start()
        client = local.device("client")
        worker_id = await client.join(await worker.create_invite(), lambda policy: True)
        ...
        local.drop_connections()                  # the network fails; devices reconnect
        assert b"secret" not in local.stored_bytes()

docs/integrators.md ("Testing your program") walks through it.
"""

try:
    import confide_server  # noqa: F401 - only to say clearly what is missing
except ImportError as exc:  # pragma: no cover - the project's own environment has it
    raise ImportError(
        "confide_client.testing runs the real relay, which is not installed: "
        "install confide-client[testing]"
    ) from exc

from confide_client.testing.relay import (
    DEFAULT_PASSPHRASE,
    DEFAULT_POLICY,
    ConsentRecord,
    Holdings,
    LocalRelay,
    relay,
)

__all__ = [
    "DEFAULT_PASSPHRASE",
    "DEFAULT_POLICY",
    "ConsentRecord",
    "Holdings",
    "LocalRelay",
    "relay",
]
