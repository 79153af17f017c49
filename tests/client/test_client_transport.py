"""Transport behaviour against a scripted local server: keep-alive, retries, timeouts (C-09)."""

from __future__ import annotations

import asyncio
import random
import socket
import ssl
import time
from typing import Any

import pytest
import trustme

from tenant_security_client import (
    AsyncTenantSecurityClient,
    KmsUnreachableError,
    RequestMetadata,
    RequestTimeoutError,
    RetryPolicy,
    TenantSecurityClient,
    Timeouts,
    TransportError,
    UserEvent,
)

from .scripted_server import ScriptedServer

META = RequestMetadata(tenant_id="t", requesting_id="svc")
OK = ("json", 200, {"dek": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "edek": "E"})
FAST_RETRY = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.05)


def sync_client(server: ScriptedServer, **kwargs: Any) -> TenantSecurityClient:
    kwargs.setdefault("retry", FAST_RETRY)
    return TenantSecurityClient(server.url, "key", allow_insecure_http=True, **kwargs)


def async_client(server: ScriptedServer, **kwargs: Any) -> AsyncTenantSecurityClient:
    kwargs.setdefault("retry", FAST_RETRY)
    return AsyncTenantSecurityClient(server.url, "key", allow_insecure_http=True, **kwargs)


def test_sequential_requests_reuse_one_keep_alive_connection() -> None:
    with ScriptedServer([], OK) as server, sync_client(server) as client:
        for _ in range(10):
            client.encrypt({"f": b"x"}, META)
        assert len(server.requests) == 10
        assert server.connections == 1
        path, headers, body = server.requests[0]
        assert path == "/api/1/document/wrap"
        assert headers["Authorization"] == "cmk key"
        assert headers["x-icl-tsc-language"] == "python"
        assert body["tenantId"] == "t"


def test_the_async_client_reuses_connections_and_reads_chunked_bodies() -> None:
    async def run(server: ScriptedServer) -> None:
        async with async_client(server) as client:
            for _ in range(5):
                await client.encrypt({"f": b"x"}, META)

    with ScriptedServer([("chunked", *OK[1:])] * 5, OK) as server:
        asyncio.run(run(server))
        assert len(server.requests) == 5
        assert server.connections == 1


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_bare_gateway_errors_are_retried_for_key_requests(flavour: str) -> None:
    steps = [("json", 503, {"error": "overloaded"}), ("json", 502, None), OK]
    with ScriptedServer(steps, OK) as server:
        if flavour == "sync":
            with sync_client(server) as client:
                client.encrypt({"f": b"x"}, META)
        else:
            asyncio.run(_async_encrypt(server))
        assert len(server.requests) == 3


async def _async_encrypt(server: ScriptedServer, **kwargs: Any) -> None:
    async with async_client(server, **kwargs) as client:
        await client.encrypt({"f": b"x"}, META)


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_connection_resets_are_retried_for_key_requests(flavour: str) -> None:
    with ScriptedServer([("reset",), OK], OK) as server:
        if flavour == "sync":
            with sync_client(server) as client:
                client.encrypt({"f": b"x"}, META)
        else:
            asyncio.run(_async_encrypt(server))
        assert len(server.requests) == 2


def test_security_events_are_never_retried() -> None:
    with ScriptedServer([("json", 503, None)], ("json", 200, None)) as server:
        with sync_client(server) as client, pytest.raises(TransportError):
            client.log_security_event(UserEvent.LOGIN, META)
        assert len(server.requests) == 1


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_errors_the_proxy_already_retried_are_not_retried_again(flavour: str) -> None:
    unreachable = ("json", 503, {"code": 208, "message": "KMS unreachable"})
    with ScriptedServer([unreachable], OK) as server:
        with pytest.raises(KmsUnreachableError):
            if flavour == "sync":
                with sync_client(server) as client:
                    client.encrypt({"f": b"x"}, META)
            else:
                asyncio.run(_async_encrypt(server))
        assert len(server.requests) == 1


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_slow_proxy_hits_the_read_timeout_without_a_retry(flavour: str) -> None:
    timeouts = Timeouts(connect=1, read=0.2, deadline=5)
    with ScriptedServer([("sleep", 3.0)], OK) as server:
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError):
            if flavour == "sync":
                with sync_client(server, timeouts=timeouts) as client:
                    client.encrypt({"f": b"x"}, META)
            else:
                asyncio.run(_async_encrypt(server, timeouts=timeouts))
        assert time.monotonic() - started < 2.0  # generous: CI machines are shared
        assert len(server.requests) == 1


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_the_overall_deadline_bounds_retries(flavour: str) -> None:
    retry = RetryPolicy(max_attempts=20, initial_backoff=0.2, max_backoff=0.2)
    timeouts = Timeouts(connect=1, read=1, deadline=0.5)
    with ScriptedServer([], ("json", 503, None)) as server:
        started = time.monotonic()
        with pytest.raises(TransportError):
            if flavour == "sync":
                with sync_client(server, timeouts=timeouts, retry=retry) as client:
                    client.encrypt({"f": b"x"}, META)
            else:
                asyncio.run(_async_encrypt(server, timeouts=timeouts, retry=retry))
        assert time.monotonic() - started < 2.0  # 20 attempts would take more than 2 s
        assert 2 <= len(server.requests) <= 4


def test_an_unreachable_proxy_fails_after_bounded_attempts() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = TenantSecurityClient(
        f"http://127.0.0.1:{port}", "key", allow_insecure_http=True, retry=FAST_RETRY
    )
    with client, pytest.raises(TransportError, match="cannot connect"):
        client.encrypt({"f": b"x"}, META)


def test_default_backoff_is_jittered_at_least_one_second_and_capped_at_32() -> None:
    policy = RetryPolicy()
    rng = random.Random(7)
    delays = [policy.backoff(attempt, rng) for attempt in range(12) for _ in range(20)]
    assert min(delays) >= 1.0
    assert max(delays) <= 32.0
    assert len({round(d, 6) for d in delays[:20]}) > 1  # jittered, not synchronised
    assert policy.backoff(10, rng) > policy.backoff(0, rng)


def test_https_works_with_a_trusted_certificate_and_fails_with_an_untrusted_one() -> None:
    ca = trustme.CA()
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    with ScriptedServer([], OK) as server:
        server.socket = server_ctx.wrap_socket(server.socket, server_side=True)
        url = server.url.replace("http://", "https://")
        client_ctx = ssl.create_default_context()
        ca.configure_trust(client_ctx)
        with TenantSecurityClient(url, "key", ssl_context=client_ctx) as client:
            for _ in range(3):
                assert client.encrypt({"f": b"x"}, META).edek == "E"
        assert server.connections == 1  # TLS connections are kept alive too

        async def run() -> None:
            async with AsyncTenantSecurityClient(url, "key", ssl_context=client_ctx) as c:
                assert (await c.encrypt({"f": b"x"}, META)).edek == "E"

        asyncio.run(run())
        untrusted = TenantSecurityClient(url, "key", retry=RetryPolicy(max_attempts=1))
        with untrusted, pytest.raises(TransportError):
            untrusted.encrypt({"f": b"x"}, META)


def test_a_bodyless_204_answer_does_not_stall_the_async_client() -> None:
    async def run(server: ScriptedServer) -> None:
        timeouts = Timeouts(connect=1, read=1, deadline=2)
        async with async_client(server, timeouts=timeouts) as client:
            async with await client.create_cached_key(META) as key:
                key.encrypt({"f": b"x"})  # closing posts report-operations, answered by 204
            await client.encrypt({"f": b"y"}, META)  # and the connection is still usable

    with ScriptedServer([OK, ("empty", 204, None), OK], OK) as server:
        asyncio.run(run(server))
        assert [r[0] for r in server.requests] == [
            "/api/1/document/wrap",
            "/api/1/document/report-operations",
            "/api/1/document/wrap",
        ]
        assert server.connections == 1
