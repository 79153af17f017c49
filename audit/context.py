"""Where the current request came from, for audit events written deep inside services.

Set by ``audit.middleware.RequestContextMiddleware`` for every HTTP request; Celery tasks and
management commands run with the empty context (actor "system").
"""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RequestContext:
    request_id: str = ""
    ip: str | None = None
    user_agent: str = ""


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "opencmk_request_context",
    default=RequestContext(),  # noqa: B039 -- frozen dataclass: immutable
)


def current() -> RequestContext:
    return _current.get()


def activate(ctx: RequestContext) -> contextvars.Token[RequestContext]:
    return _current.set(ctx)


def deactivate(token: contextvars.Token[RequestContext]) -> None:
    _current.reset(token)


def new_request_id() -> str:
    return uuid.uuid4().hex
