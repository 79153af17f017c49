"""django-allauth adapters: e-mail through Celery, MFA secrets encrypted at rest."""

from __future__ import annotations

import base64
import os
import secrets
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.adapter import DefaultMFAAdapter
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django import forms
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import render

_MFA_PREFIX = "enc1:"
_MFA_AAD = b"OpenCMK/1/mfa-secret"


class AccountAdapter(DefaultAccountAdapter):
    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        # allauth reports a locked-out account as a form error (200); answer 429 with
        # Retry-After instead, so clients and monitoring see a rate limit (ACCEPTANCE A-03).
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError as exc:
            if getattr(exc, "code", None) != "too_many_login_attempts":
                raise
            response = render(request, "429.html", status=429)
            response["Retry-After"] = "300"
            raise ImmediateHttpResponse(response) from None

    def respond_email_verification_sent(
        self, request: HttpRequest, user: AbstractBaseUser | None
    ) -> HttpResponseBase:
        if user is None:  # a sign-up with an address that already has an account
            _shadow_signup(self, request)
        return super().respond_email_verification_sent(request, user)

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        # Render now (the context holds model instances), deliver from a Celery task.
        msg = self.render_mail(template_prefix, email, context)
        from accounts.tasks import send_rendered_email

        send_rendered_email.delay(
            subject=msg.subject,
            body=msg.body,
            from_email=msg.from_email,
            to=list(msg.to),
            alternatives=[
                (content, mimetype) for content, mimetype in getattr(msg, "alternatives", [])
            ],
        )


class MFAAdapter(DefaultMFAAdapter):
    """Encrypts TOTP secrets and recovery-code seeds with OPENCMK_MFA_KEY (ACCEPTANCE A-09)."""

    def encrypt(self, text: str) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(_key()).encrypt(nonce, text.encode(), _MFA_AAD)
        return _MFA_PREFIX + base64.b64encode(nonce + sealed).decode()

    def decrypt(self, encrypted_text: str) -> str:
        if not encrypted_text.startswith(_MFA_PREFIX):
            raise ImproperlyConfigured("An MFA secret is stored unencrypted; refusing to use it.")
        raw = base64.b64decode(encrypted_text[len(_MFA_PREFIX) :])
        try:
            return AESGCM(_key()).decrypt(raw[:12], raw[12:], _MFA_AAD).decode()
        except InvalidTag:
            raise ImproperlyConfigured(
                "An MFA secret does not decrypt with OPENCMK_MFA_KEY."
            ) from None


def _shadow_signup(adapter: DefaultAccountAdapter, request: HttpRequest) -> None:
    """Do what a real sign-up does in the database and the hasher, then roll it back.

    A sign-up with a taken address creates nobody, so it would answer faster than a real one by
    a password hash (a second at Django's PBKDF2 cost) and the new account's queries (A-05).
    These are the steps of allauth's ``BaseSignupForm.save``, on a throwaway address.
    """
    from allauth.account.models import EmailAddress
    from allauth.account.utils import setup_user_email

    email = f"{secrets.token_hex(12)}@shadow.invalid"
    form = forms.Form()
    form.cleaned_data = {
        "email": email,
        "password1": request.POST.get("password1") or secrets.token_urlsafe(16),
    }
    with transaction.atomic():
        user = adapter.save_user(request, adapter.new_user(request), form)
        setup_user_email(request, user, [EmailAddress(email=email)])
        transaction.set_rollback(True)


def _key() -> bytes:
    return bytes(settings.MFA_ENCRYPTION_KEY)
