from __future__ import annotations

from django.apps import AppConfig


class AuditConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "audit"

    def ready(self) -> None:
        # Connects the account-security receivers (logins, passwords, MFA).
        from audit import receivers  # noqa: F401
