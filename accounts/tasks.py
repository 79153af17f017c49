"""Celery tasks of the accounts app."""

from __future__ import annotations

from celery import shared_task
from django.core.mail import EmailMultiAlternatives


@shared_task(autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600, max_retries=8)
def send_rendered_email(
    *, subject: str, body: str, from_email: str, to: list[str], alternatives: list[tuple[str, str]]
) -> None:
    message = EmailMultiAlternatives(subject=subject, body=body, from_email=from_email, to=to)
    for content, mimetype in alternatives:
        message.attach_alternative(content, mimetype)
    message.send()
