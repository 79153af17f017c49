from __future__ import annotations

from typing import Any

from django.db import migrations

from audit import triggers


def _install(apps: Any, schema_editor: Any) -> None:
    triggers.install(schema_editor.connection)


def _remove(apps: Any, schema_editor: Any) -> None:
    triggers.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(_install, _remove)]
