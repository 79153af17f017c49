"""Logging-config validation: clear errors naming the field, never echoing a value."""

from __future__ import annotations

import io

import pytest

from tenant_security_proxy.events import SinkConfigError, build_sink
from tenant_security_proxy.events.sinks import PROVIDERS
from tests.proxy.events.support import run

CANARY = "CANARY-5f2d9a"
RSA_PEM_PLACEHOLDER = "-----BEGIN PRIVATE KEY-----\nCANARY-5f2d9a\n-----END PRIVATE KEY-----\n"

VALID = {
    "splunk-hec": {"url": "https://splunk.example:8088", "token": CANARY},
    "elastic": {"url": "https://es.example:9200", "index": "opencmk", "api_key": CANARY},
    "datadog": {"site": "datadoghq.eu", "api_key": CANARY},
    "webhook": {"url": "https://siem.example/hook", "secret": CANARY + "-long-enough"},
    "syslog": {"host": "syslog.example", "port": 6514},
}


def _build(provider: str, **fields):
    return build_sink({"provider": provider, **fields}, stdout=io.StringIO())


@pytest.mark.parametrize("provider", sorted(VALID))
def test_it_builds_a_sink_from_a_complete_config(provider):
    sink = _build(provider, **VALID[provider])
    assert sink.provider == provider
    assert CANARY not in repr(sink)
    run(sink.aclose())


def test_every_provider_of_design_section_5_has_a_sink():
    assert set(PROVIDERS) == {
        "splunk-hec", "gcp-cloud-logging", "elastic", "datadog", "webhook", "syslog",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("provider", "fields", "expected"),
    [
        ("splunk-hec", {"url": "https://s"}, "missing field(s): token"),
        ("splunk-hec", {"url": f"http://{CANARY}.example", "token": CANARY}, "https://"),
        ("splunk-hec", {"url": f"https://u:{CANARY}@h", "token": "t"}, "must not embed"),
        ("splunk-hec", {"url": "https://s", "token": "t", "tokn": CANARY}, "unknown field(s)"),
        ("elastic", {"url": "https://e", "index": "i"}, "api_key, or username and password"),
        ("elastic", {"url": "https://e", "index": "i", "api_key": CANARY, "username": "u"},
         "not both"),
        ("elastic", {"url": "https://e", "index": "_bad", "api_key": CANARY}, "'index'"),
        ("datadog", {"api_key": CANARY, "site": "evil.example/"}, "'site'"),
        ("datadog", {"api_key": CANARY, "gzip": "yes"}, "'gzip'"),
        ("webhook", {"url": "https://w", "secret": "short"}, "at least 16"),
        ("syslog", {"host": "h", "port": 70000}, "'port'"),
        ("syslog", {"host": "h", "ca_cert": CANARY}, "not a PEM"),
        ("gcp-cloud-logging", {"project_id": "acme-logs", "log_id": "l", "client_email": "e",
                               "private_key": RSA_PEM_PLACEHOLDER}, "not a PEM private key"),
        ("gcp-cloud-logging", {"project_id": "X", "log_id": "l", "client_email": "e",
                               "private_key": RSA_PEM_PLACEHOLDER}, "'project_id'"),
    ],
)  # fmt: skip
def test_it_rejects_bad_configs_naming_the_field_but_never_the_value(provider, fields, expected):
    with pytest.raises(SinkConfigError) as info:
        _build(provider, **fields)
    text = str(info.value) + repr(info.value) + str(info.value.__cause__ or "")
    assert expected in info.value.message
    assert CANARY not in text and provider in info.value.message


def test_it_rejects_an_unknown_provider_and_a_non_object_config():
    with pytest.raises(SinkConfigError, match="must be one of"):
        build_sink({"provider": "papertrail"}, stdout=io.StringIO())
    with pytest.raises(SinkConfigError, match="JSON object"):
        build_sink(["splunk-hec"], stdout=io.StringIO())  # type: ignore[arg-type]


def test_plain_http_is_allowed_only_to_loopback_receivers():
    sink = _build("webhook", url="http://127.0.0.1:9/hook", secret="s" * 16)
    run(sink.aclose())
    with pytest.raises(SinkConfigError):
        _build("webhook", url="http://10.0.0.1/hook", secret="s" * 16)


def test_optional_fields_sent_as_null_mean_not_given():
    sink = _build(
        "splunk-hec", url="https://s", token=CANARY, index=None, endpoint=None, ca_cert=None,
        timeout_s=None,
    )  # fmt: skip
    run(sink.aclose())
    sink = _build("syslog", host="h", port=None, app_name="")
    run(sink.aclose())


def test_datadog_site_selects_the_regional_intake():
    sink = _build("datadog", api_key=CANARY, site="datadoghq.eu")
    assert "https://http-intake.logs.datadoghq.eu/api/v2/logs" in repr(sink)
    run(sink.aclose())
