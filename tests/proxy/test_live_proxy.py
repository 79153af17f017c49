"""A proxy serving over HTTP in a thread: revocation latency (PR-02), auth on the wire (P-04)."""

from __future__ import annotations

import time

import pytest

from tests.fakes.broker import FakeBroker, KmsSpec, World
from tests.fixtures.proxy import API_KEY, API_KEY_2, start_proxy
from tests.proxy.helpers import get, meta, post
from tests.proxy.localkms import LocalKmsFactory, local_config


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    world = World()
    broker = FakeBroker(world).start()
    spec = KmsSpec(local_config())
    broker.put_bundle(world.bundle("acme", 1, [spec], leasing=True))
    # Default sync interval (2 s): the documented setting must meet the 5 s revocation target.
    proxy = start_proxy(
        world,
        broker,
        tmp_path_factory.mktemp("live") / "events.jsonl",
        env={"TSP_SYNC_INTERVAL": "2s"},
        kms_factory=LocalKmsFactory(),
    )
    yield world, broker, proxy, spec
    proxy.stop()
    broker.stop()


@pytest.mark.parametrize("key", [API_KEY, API_KEY_2])
def test_both_keys_work_over_http(live, key):
    _, _, proxy, _ = live
    assert post(proxy.url, "document/wrap", meta("acme"), api_key=key)[0] == 200


def test_a_wrong_key_gets_401_over_http(live):
    _, _, proxy, _ = live
    status, answer = post(proxy.url, "document/wrap", meta("acme"), api_key="nope-nope-nope-nope")
    assert (status, answer["code"]) == (401, 101)


def test_ironcore_client_headers_are_tolerated(live):
    _, _, proxy, _ = live
    headers = {
        "x-icl-tsc-language": "java",
        "x-icl-tsc-version": "8.1.1",
        "User-Agent": "Tenant Security Client Go v0.6.0",
    }
    assert (
        post(proxy.url, "document/wrap", meta("acme"), api_key=API_KEY, headers=headers)[0] == 200
    )


def test_a_tenant_disabling_its_config_takes_effect_within_five_seconds(live):
    world, broker, proxy, spec = live
    wrapped = post(proxy.url, "document/wrap", meta("acme"), api_key=API_KEY)[1]
    spec.state = "disabled"
    t0 = time.monotonic()
    broker.put_bundle(world.bundle("acme", 2, [spec, KmsSpec(local_config())], leasing=True))
    body = meta("acme") | {"encryptedDocumentKey": wrapped["edek"]}
    while True:
        status, answer = post(proxy.url, "document/unwrap", body, api_key=API_KEY)
        if status != 200:
            break
        assert time.monotonic() - t0 < 5.0, "revocation took longer than 5 s"
        time.sleep(0.1)
    assert answer["code"] == 202
    assert time.monotonic() - t0 < 5.0


def test_metrics_and_health_are_served_on_the_health_port(live):
    _, _, proxy, _ = live
    status, text = get(proxy.health_url + "/metrics")
    assert status == 200 and b"tsp_requests_total" in text
    assert get(proxy.health_url + "/health")[0] == 200
