"""`python -m tenant_security_proxy keygen | serve | check`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from typing import Any

import nacl.public
import nacl.signing


class JsonFormatter(logging.Formatter):
    """One JSON object per line; only whitelisted fields, so no secret can slip in via `extra`."""

    _EXTRA = ("tenant_id", "reason", "status", "error")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "service": "opencmk-tsp",
        }
        for name in self._EXTRA:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__  # no traceback text: may hold values
        return json.dumps(entry)


def _setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)


def keygen() -> int:
    from opencmk_crypto import b64e, kid

    signing = nacl.signing.SigningKey.generate()
    encryption = nacl.public.PrivateKey.generate()
    print("# Private: put these into the proxy's environment (secret store). Shown only once.")
    print(f"TSP_CLUSTER_SIGNING_KEY={b64e(bytes(signing))}")
    print(f"TSP_CLUSTER_ENCRYPTION_KEY={b64e(bytes(encryption))}")
    print()
    print("# Public: paste these into the broker when registering the proxy cluster.")
    print(f"signing_key={b64e(bytes(signing.verify_key))}")
    print(f"encryption_key={b64e(bytes(encryption.public_key))}")
    print(f"kid={kid(bytes(signing.verify_key))}")
    return 0


def _settings():  # type: ignore[no-untyped-def]
    from tenant_security_proxy.config import load_settings

    return load_settings()


def _harden_process() -> None:
    """P-02: no core dumps and no ptrace/proc access by other users to the decrypted configs."""
    import ctypes
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        pr_set_dumpable = 4
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_dumpable, 0, 0, 0, 0)
    except (OSError, AttributeError):
        logging.getLogger("tenant_security_proxy").warning("could not mark process non-dumpable")
    # Secrets are now in Settings; drop them from os.environ so child processes never inherit
    # them. (/proc/<pid>/environ keeps the exec-time copy; the non-dumpable flag hides it.)
    for name in (
        "TSP_CLUSTER_SIGNING_KEY",
        "TSP_CLUSTER_ENCRYPTION_KEY",
        "TSP_API_KEY",
        "TSP_API_KEY_2",
        "API_KEY",
        "API_KEY_2",
    ):
        os.environ.pop(name, None)


def serve() -> int:
    import uvloop

    from tenant_security_proxy.runtime import Runtime
    from tenant_security_proxy.server import bind_socket
    from tenant_security_proxy.server import serve as run

    settings = _settings()
    _setup_logging(settings.log_level)
    _harden_process()
    api_sock = bind_socket(settings.bind, settings.port)
    health_sock = bind_socket(settings.bind, settings.health_port)
    logging.getLogger("tenant_security_proxy").info(
        "serving API on %s:%d, health on %s:%d",
        settings.bind,
        settings.port,
        settings.bind,
        settings.health_port,
    )

    async def main() -> None:
        await run(Runtime(settings), api_socket=api_sock, health_socket=health_sock)

    uvloop.run(main())
    return 0


def check() -> int:
    """Validate the environment, then do one signed sync and a canary on every config."""
    from tenant_security_proxy.runtime import Runtime

    settings = _settings()
    _setup_logging("WARNING")

    async def main() -> int:
        from tenant_security_proxy.events import EventHub

        # Events of the check (config loads, canaries) go to stderr, the report to stdout.
        runtime = Runtime(settings, hub=EventHub(stdout=sys.stderr))
        await runtime.hub.start()
        try:
            await runtime.syncer.sync_once()
            await runtime.loader.wait_canaries()
        except Exception as exc:
            print(f"broker: FAILED ({type(exc).__name__}: {exc})")
            return 1
        print(f"broker: ok ({len(runtime.state.tenants)} tenants loaded)")
        failed = 0
        for tenant in runtime.state.tenants.values():
            for config in tenant.configs.values():
                print(f"tenant {tenant.tenant_id} config {config.config_id}: {config.canary}")
                failed += config.canary == "failed"
        for tenant_id, reason in runtime.state.rejections.items():
            print(f"tenant {tenant_id}: REJECTED ({reason})")
        await runtime.stop()
        return 1 if failed else 0

    return asyncio.run(main())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tenant_security_proxy")
    parser.add_argument("command", choices=["keygen", "serve", "check"])
    args = parser.parse_args(argv)
    try:
        return {"keygen": keygen, "serve": serve, "check": check}[args.command]()
    except Exception as exc:
        from tenant_security_proxy.errors import ProxyError

        if isinstance(exc, ProxyError):
            print(f"error: {exc.message}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    os.umask(0o077)
    sys.exit(main())
