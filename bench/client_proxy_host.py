"""Run the test stack (fake broker, OpenBao dev server, real proxy) in its own process.

bench/client_bench.py starts this as a child so that the proxy does not share the client's GIL.
It prints one JSON line (url, api key, tenant ids) and serves until its stdin closes.

    .venv/bin/python bench/client_proxy_host.py [--as-shipped]
"""

from __future__ import annotations

import json
import socket
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tests.fixtures.proxy as proxy_fixture
from tests.fakes.broker import FakeBroker, KmsSpec, World
from tests.fixtures.kms_services import start_openbao, stop_openbao
from tests.fixtures.proxy import API_KEY, start_proxy, vault_config


def _bind_tcp(host: str, port: int) -> socket.socket:
    """Like tenant_security_proxy.server.bind_socket, but with proto=IPPROTO_TCP.

    asyncio sets TCP_NODELAY on accepted sockets only when the listening socket's proto is
    IPPROTO_TCP; with proto 0 every keep-alive response waits ~40 ms for a delayed ACK (Nagle).
    Reported to the proxy's owner; `--as-shipped` measures the proxy without this fix.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def main() -> None:
    if "--as-shipped" not in sys.argv:
        proxy_fixture.bind_socket = _bind_tcp  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        bao = start_openbao(Path(tmp))
        world = World()
        broker = FakeBroker(world).start()
        tenants = {"tenant-leased": True, "tenant-unleased": False}
        for tenant_id, leasing in tenants.items():
            config = vault_config(bao, f"bench-{tenant_id}")
            broker.put_bundle(world.bundle(tenant_id, 1, [KmsSpec(config)], leasing=leasing))
        proxy = start_proxy(world, broker, Path(tmp) / "events.jsonl")
        try:
            info = {
                "url": proxy.url,
                "api_key": API_KEY,
                "tenant_leased": "tenant-leased",
                "tenant_unleased": "tenant-unleased",
            }
            print(json.dumps(info), flush=True)
            sys.stdin.read()  # until the parent closes our stdin
        finally:
            proxy.stop()
            broker.stop()
            stop_openbao(bao)


if __name__ == "__main__":
    main()
