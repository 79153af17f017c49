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
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured, ValidationError
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
        if user is None:
            # Sign-up with an address that already has an account creates nobody, so it would
            # skip the password hash a real sign-up pays and answer measurably faster.
            password = request.POST.get("password1")
            get_user_model()().set_password(password or secrets.token_urlsafe(16))
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


def _key() -> bytes:
    return bytes(settings.MFA_ENCRYPTION_KEY)
