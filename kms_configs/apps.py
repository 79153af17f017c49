from __future__ import annotations

from django.apps import AppConfig


class KmsConfigsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "kms_configs"

    def ready(self) -> None:
        from kms_configs import changes

        changes.connect()
