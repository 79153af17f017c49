from __future__ import annotations

import base64

import pytest

from tenant_security_proxy.config import ConfigError, load_settings, parse_duration

KEY = base64.b64encode(b"k" * 32).decode()
BASE = {
    "TSP_API_KEY": "first-api-key-0123456789",
    "TSP_BROKER_URL": "https://broker.example/",
    "TSP_CLUSTER_ID": "cluster-1",
    "TSP_CLUSTER_SIGNING_KEY": KEY,
    "TSP_CLUSTER_ENCRYPTION_KEY": KEY,
    "TSP_VENDOR_ROOT_KEY": KEY,
}


def test_it_reads_defaults_of_design_6_1():
    s = load_settings(BASE)
    assert (s.port, s.health_port, s.bind) == (7777, 9000, "0.0.0.0")
    assert s.max_staleness_s == 24 * 3600
    assert s.sync_interval_s <= 2.5
    assert s.broker_url == "https://broker.example"


def test_it_accepts_ironcore_api_key_aliases_for_rotation():
    env = {k: v for k, v in BASE.items() if k != "TSP_API_KEY"}
    env |= {"API_KEY": "a" * 20, "API_KEY_2": "b" * 20}
    s = load_settings(env)
    assert [k.reveal() for k in s.api_keys] == ["a" * 20, "b" * 20]


def test_repr_of_settings_hides_every_secret():
    s = load_settings(BASE | {"TSP_API_KEY_2": "second-api-key-0123456789"})
    text = repr(s) + str(s)
    for secret in ("first-api-key", "second-api-key", KEY):
        assert secret not in text


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("TSP_PORT", "seventy", "TSP_PORT"),
        ("TSP_PORT", "70000", "TSP_PORT"),
        ("TSP_MAX_STALENESS", "forever", "TSP_MAX_STALENESS"),
        ("TSP_VENDOR_ROOT_KEY", "abc", "TSP_VENDOR_ROOT_KEY"),
        ("TSP_CLUSTER_SIGNING_KEY", base64.b64encode(b"x" * 31).decode(), "32 bytes"),
        ("TSP_BROKER_URL", "ftp://x", "TSP_BROKER_URL"),
        ("TSP_BROKER_URL", "http://broker.example", "https"),
        ("TSP_API_KEY", "short", "16 characters"),
        ("TSP_CLUSTER_ID", "", "TSP_CLUSTER_ID"),
    ],
)
def test_it_explains_bad_values(name, value, fragment):
    with pytest.raises(ConfigError, match=fragment) as info:
        load_settings(BASE | {name: value})
    assert KEY not in str(info.value)


@pytest.mark.parametrize(
    ("text", "seconds"), [("2", 2), ("2s", 2), ("500ms", 0.5), ("10m", 600), ("24h", 86400)]
)
def test_it_parses_durations(text, seconds):
    assert parse_duration(text, "X") == seconds
