"""OpenCMK Configuration Broker (Django project)."""

from __future__ import annotations

from broker.celery import app as celery_app

__all__ = ["celery_app"]
