"""Run the test stack (fake broker, OpenBao dev server, real proxy) in its own process.

bench/client_bench.py starts this as a child so that the proxy does not share the client's GIL.
It prints one JSON line (url, api key, tenant ids) and serves until its stdin closes.

    .venv/bin/python bench/client_proxy_host.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes.broker import FakeBroker, KmsSpec, World
from tests.fixtures.kms_services import start_openbao, stop_openbao
from tests.fixtures.proxy import API_KEY, start_proxy, vault_config


def main() -> None:
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
