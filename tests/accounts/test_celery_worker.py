"""One end-to-end check that e-mail really leaves through a Celery worker over Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings

from accounts import services
from audit.actors import Actor
from broker.celery import app as celery_app

# A database of its own on the local Redis (running here and in CI), so nothing else is touched.
REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture
def celery_worker(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    redis.Redis.from_url(REDIS_URL).flushdb()  # db 13 belongs to this test alone
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
    }
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "broker",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=INFO",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    saved = {k: celery_app.conf[k] for k in ("task_always_eager", "broker_url")}
    _forget_connections()
    celery_app.conf.update(task_always_eager=False, broker_url=REDIS_URL)
    try:
        yield mail_dir
    finally:
        celery_app.conf.update(saved)
        _forget_connections()
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()  # a leftover worker would steal the next run's messages
            worker.wait(timeout=5)
        log.close()


def _forget_connections() -> None:
    # The app caches its broker connection pools; drop them so the new broker_url is used.
    # Not closed: kombu's global registry still hands them out (even eager sends take a producer).
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_invitation_email_is_delivered_by_a_real_worker(
    celery_worker: Any, acme: Any, tmp_path: Path
) -> None:
    mail_dir = celery_worker

    services.invitation_create(
        actor=Actor.system(),
        vendor=acme,
        issued_by="vendor",
        email="worker@acme.test",
        role="admin",
    )

    deadline = time.monotonic() + 60
    files: list[Path] = []
    while time.monotonic() < deadline and not files:
        files = list(mail_dir.iterdir())
        time.sleep(0.2)
    log = (tmp_path / "worker.log").read_text()
    assert files, f"no mail delivered; worker log:\n{log[-3000:]}"
    content = files[0].read_text()
    assert "To: worker@acme.test" in content
    assert "/invitations/" in content
    assert "accounts.tasks.send_rendered_email" in log and "succeeded" in log
