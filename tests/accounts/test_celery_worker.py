"""One end-to-end check that e-mail really leaves through a Celery worker over Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
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
    queue = f"test-{uuid.uuid4().hex[:8]}"
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    redis.Redis.from_url(REDIS_URL).ping()
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
            "-Q",
            queue,
            "--loglevel=INFO",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    saved = {
        k: celery_app.conf[k] for k in ("task_always_eager", "broker_url", "task_default_queue")
    }
    celery_app.conf.update(task_always_eager=False, broker_url=REDIS_URL, task_default_queue=queue)
    try:
        yield queue, mail_dir
    finally:
        celery_app.conf.update(saved)
        celery_app.pool.force_close_all()
        worker.terminate()
        worker.wait(timeout=20)
        log.close()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_invitation_email_is_delivered_by_a_real_worker(
    celery_worker: Any, acme: Any, tmp_path: Path
) -> None:
    _, mail_dir = celery_worker

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
