"""Raw ASGI plumbing shared by the API and health apps: body reading, JSON responses, lifespan,
and the IronCore metadata envelope (`iclFields`, `customFields`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson

from tenant_security_proxy import errors
from tenant_security_proxy.errors import ProxyError

Scope = Mapping[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

MAX_BODY_BYTES = 4 * 1024 * 1024
NO_CONTENT = object()  # a handler's answer meaning "204, empty body"
_JSON_HEADERS = [(b"content-type", b"application/json")]
_ICL_OPTIONAL = ("dataLabel", "sourceIp", "objectId", "requestId")


def bad_request(message: str) -> ProxyError:
    return ProxyError(errors.INVALID_REQUEST_BODY, message)


def icl_fields(body: Mapping[str, Any]) -> dict[str, str]:
    """`iclFields` with `requestingId` required and the optional fields absent or null."""
    fields = body.get("iclFields")
    if not isinstance(fields, dict):
        raise bad_request("iclFields must be an object")
    requesting = fields.get("requestingId")
    if not isinstance(requesting, str) or not requesting:
        raise bad_request("iclFields.requestingId is required")
    out = {"requestingId": requesting}
    for name in _ICL_OPTIONAL:
        value = fields.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise bad_request(f"iclFields.{name} must be a string")
        out[name] = value
    return out


def custom_fields(body: Mapping[str, Any]) -> dict[str, str]:
    fields = body.get("customFields")
    if fields is None:
        return {}
    if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
        raise bad_request("customFields must be an object of strings")
    return fields


async def read_json(receive: Receive) -> dict[str, Any]:
    message = await receive()
    body = message.get("body", b"")
    if message.get("more_body"):
        chunks = [body]
        size = len(body)
        while message.get("more_body"):
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise bad_request("Request body too large.")
            chunks.append(chunk)
        body = b"".join(chunks)
    try:
        value = orjson.loads(body)
    except ValueError:  # orjson.JSONDecodeError is a ValueError
        raise bad_request("Request body was not valid JSON.") from None
    if not isinstance(value, dict):
        raise bad_request("Request body must be a JSON object.")
    return value


# Response header lists by body length, built once: wrap and unwrap answers have one or two
# lengths, so the hot path allocates no header list. Bounded (lengths are data-dependent).
_json_headers_by_length: dict[int, list[tuple[bytes, bytes]]] = {}
_HEADER_CACHE_MAX = 1024


def _json_headers(length: int) -> list[tuple[bytes, bytes]]:
    headers = _json_headers_by_length.get(length)
    if headers is None:
        headers = [*_JSON_HEADERS, (b"content-length", str(length).encode())]
        if len(_json_headers_by_length) < _HEADER_CACHE_MAX:
            _json_headers_by_length[length] = headers
    return headers


async def respond(send: Send, status: int, payload: Any) -> None:
    if payload is NO_CONTENT:
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    body = orjson.dumps(payload)
    await send(
        {"type": "http.response.start", "status": status, "headers": _json_headers(len(body))}
    )
    await send({"type": "http.response.body", "body": body})


async def lifespan(receive: Receive, send: Send) -> None:
    # The runtime (sync loop, event hub) is started by the caller, not by the server's lifespan.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
