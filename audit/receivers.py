"""Account-security events from Django and django-allauth, recorded on the platform chain.

These are user-level events: a person may belong to many organisations, and "exactly one event
per action" (L-01) rules out copying a login into each of them, so they go to the ``platform``
chain only (docs/audit.md). allauth sends its MFA signals after its own commit, so those events
are recorded right after the change rather than in its transaction (a documented limit).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from django.contrib.auth import signals as auth_signals
from django.dispatch import receiver

from audit import context
from audit.actors import Actor
from audit.middleware import client_ip
from audit.services import record


@contextmanager
def _request_context(request: Any) -> Iterator[None]:
    """allauth may send its signal from an on-commit hook; take where-from off the request."""
    if request is None or context.current().request_id:
        yield
        return
    token = context.activate(
        context.RequestContext(
            request_id=getattr(request, "request_id", "") or context.new_request_id(),
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:512],
        )
    )
    try:
        yield
    finally:
        context.deactivate(token)


def _user_event(
    action: str, user: Any, *, request: Any = None, outcome: str = "success", **data: Any
) -> None:
    with _request_context(request):
        record(
            action=action,
            actor=Actor.for_user(user),
            vendor=None,
            target=user,
            outcome=outcome,
            data=data,
        )


@receiver(auth_signals.user_logged_in, dispatch_uid="audit.user_logged_in")
def on_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    _user_event("user.logged_in", user)


@receiver(auth_signals.user_logged_out, dispatch_uid="audit.user_logged_out")
def on_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        _user_event("user.logged_out", user)


@receiver(auth_signals.user_login_failed, dispatch_uid="audit.user_login_failed")
def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    # Who tried is unknown: keep an HMAC of the identifier typed (it may even be a password),
    # no target, so the log does not say whether that account exists (enumeration).
    typed = str(credentials.get("email") or credentials.get("username") or "")
    record(
        action="user.login_failed",
        actor=Actor.anonymous(hint=typed),
        vendor=None,
        outcome="failure",
    )


@receiver(account_signals.password_changed, dispatch_uid="audit.password_changed")
def on_password_changed(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    _user_event("user.password_changed", user)


@receiver(account_signals.password_set, dispatch_uid="audit.password_set")
def on_password_set(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    _user_event("user.password_set", user)


@receiver(account_signals.password_reset, dispatch_uid="audit.password_reset")
def on_password_reset(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    _user_event("user.password_reset", user)


@receiver(account_signals.email_added, dispatch_uid="audit.email_added")
def on_email_added(sender: Any, request: Any, user: Any, email_address: Any, **kwargs: Any) -> None:
    _user_event("user.email_added", user, email=email_address.email)


@receiver(account_signals.email_removed, dispatch_uid="audit.email_removed")
def on_email_removed(
    sender: Any, request: Any, user: Any, email_address: Any, **kwargs: Any
) -> None:
    _user_event("user.email_removed", user, email=email_address.email)


@receiver(account_signals.email_confirmed, dispatch_uid="audit.email_confirmed")
def on_email_confirmed(sender: Any, request: Any, email_address: Any, **kwargs: Any) -> None:
    _user_event("user.email_confirmed", email_address.user, email=email_address.email)


@receiver(account_signals.email_changed, dispatch_uid="audit.email_changed")
def on_email_changed(
    sender: Any,
    request: Any,
    user: Any,
    from_email_address: Any,
    to_email_address: Any,
    **kwargs: Any,
) -> None:
    before = getattr(from_email_address, "email", None)
    _user_event("user.email_changed", user, old_email=before, new_email=to_email_address.email)


def _mfa_action(authenticator: Any, verb: str) -> str:
    if authenticator.type == "recovery_codes" and verb == "added":
        return "mfa.recovery_codes_generated"
    return f"mfa.authenticator_{verb}"


@receiver(mfa_signals.authenticator_added, dispatch_uid="audit.authenticator_added")
def on_authenticator_added(
    sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any
) -> None:
    _user_event(_mfa_action(authenticator, "added"), user, request=request, type=authenticator.type)


@receiver(mfa_signals.authenticator_removed, dispatch_uid="audit.authenticator_removed")
def on_authenticator_removed(
    sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any
) -> None:
    _user_event(
        _mfa_action(authenticator, "removed"), user, request=request, type=authenticator.type
    )


@receiver(mfa_signals.authenticator_reset, dispatch_uid="audit.authenticator_reset")
def on_authenticator_reset(
    sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any
) -> None:
    _user_event("mfa.recovery_codes_generated", user, request=request, type=authenticator.type)


@receiver(mfa_signals.authentication_failed, dispatch_uid="audit.mfa_failed")
def on_mfa_failed(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    reauth = bool(kwargs.get("reauthentication"))
    _user_event(
        "mfa.code_rejected",
        user,
        outcome="failure",
        type=authenticator.type,
        reauthentication=reauth,
    )
