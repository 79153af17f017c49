"""Invitation tokens: hashed at rest, single use, expiring, resend invalidates, revoke."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from accounts import services
from accounts.models import Invitation
from audit.actors import Actor
from audit.models import AuditEvent
from tests.broker.factories import UserFactory, invitation_path, login

pytestmark = pytest.mark.django_db


@pytest.fixture
def invite(acme: Any, alice: Any, mailoutbox: Any, django_capture_on_commit_callbacks: Any) -> Any:
    """Invite dave@acme.test as vendor admin; returns (invitation, accept path)."""

    def make(email: str = "dave@acme.test") -> tuple[Invitation, str]:
        with django_capture_on_commit_callbacks(execute=True):
            invitation = services.invitation_create(
                actor=Actor.for_user(alice),
                vendor=acme,
                issued_by="vendor",
                email=email,
                role="admin",
                invited_by=alice,
            )
        return invitation, invitation_path(mailoutbox[-1])

    return make


@pytest.fixture
def dave_client(db: None) -> Client:
    return login(Client(), UserFactory(email="dave@acme.test"))


def test_only_the_sha256_of_the_token_is_stored(invite: Any) -> None:
    invitation, path = invite()
    token = path.rstrip("/").rsplit("/", 1)[1]

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_invitation")
        row = " ".join(str(col) for col in cursor.fetchone())
    assert len(token) >= 43  # 256 bits
    assert token not in row
    assert invitation.token_hash in row


def test_an_invitation_works_exactly_once(invite: Any, dave_client: Client, acme: Any) -> None:
    _, path = invite()

    first = dave_client.post(path)
    second = dave_client.get(path)

    assert first.status_code == 302
    assert second.status_code == 410
    assert b"already been used" in second.content
    assert AuditEvent.objects.filter(action="invitation.accepted").count() == 1


def test_an_expired_invitation_cannot_be_accepted(
    invite: Any, dave_client: Client, acme: Any
) -> None:
    _, path = invite()

    with freeze_time(timezone.now() + timedelta(days=7, seconds=1)):
        response = dave_client.post(path)

    assert response.status_code == 410
    assert not acme.memberships.filter(user__email="dave@acme.test").exists()


def test_resend_issues_a_new_link_and_kills_the_old_one(
    invite: Any,
    dave_client: Client,
    alice_client: Client,
    acme: Any,
    mailoutbox: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    invitation, old_path = invite()
    url = reverse(
        "vendors:invitation_resend",
        kwargs={"vendor": acme.public_id, "invitation": invitation.public_id},
    )

    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(url)
    new_path = invitation_path(mailoutbox[-1])

    assert new_path != old_path
    assert dave_client.get(old_path).status_code == 404
    assert dave_client.post(new_path).status_code == 302
    assert acme.memberships.filter(user__email="dave@acme.test").exists()
    assert AuditEvent.objects.filter(action="invitation.resent").count() == 1


def test_a_revoked_invitation_cannot_be_accepted(
    invite: Any, dave_client: Client, alice_client: Client, acme: Any
) -> None:
    invitation, path = invite()

    alice_client.post(
        reverse(
            "vendors:invitation_revoke",
            kwargs={"vendor": acme.public_id, "invitation": invitation.public_id},
        )
    )
    response = dave_client.post(path)

    assert response.status_code == 410
    assert b"revoked" in response.content.lower()
    with pytest.raises(services.InvitationUnavailableError):
        services.invitation_resend(actor=Actor.system(), invitation=invitation)


def test_an_unknown_token_is_a_404(client: Client, db: None) -> None:
    response = client.get(reverse("accounts:invitation_accept", kwargs={"token": "x" * 43}))

    assert response.status_code == 404


def test_someone_else_cannot_accept_with_the_link(
    invite: Any, mallory_client: Client, acme: Any
) -> None:
    _, path = invite()

    response = mallory_client.post(path)

    assert response.status_code == 403
    assert b"another address" in response.content
    assert b"dave@acme.test" not in response.content  # the address is masked
    assert not acme.memberships.filter(user__email="mallory@evil.test").exists()


def test_an_unverified_address_does_not_count(invite: Any, acme: Any) -> None:
    _, path = invite()
    unverified = UserFactory(email="dave@acme.test", verified=False)

    response = login(Client(), unverified).post(path)

    assert response.status_code in (302, 403)
    assert not acme.memberships.filter(user=unverified).exists()


def test_a_logged_out_visitor_is_offered_sign_in_and_resumes_after_login(
    invite: Any, client: Client, acme: Any
) -> None:
    _, path = invite()
    page = client.get(path)
    assert page.status_code == 200
    assert b"Create an account" in page.content

    dave = UserFactory(email="dave@acme.test")
    response = client.post(
        reverse("account_login"), {"login": dave.email, "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    home = client.get(reverse("home"))

    assert home["Location"] == path
    assert client.post(path).status_code == 302
    assert acme.memberships.filter(user=dave).exists()


def test_accepting_never_demotes_an_existing_admin(
    acme: Any, alice: Any, alice_client: Client
) -> None:
    invitation = services.invitation_create(
        actor=Actor.system(), vendor=acme, issued_by="vendor", email=alice.email, role="viewer"
    )
    # Resend to learn a valid token without e-mail plumbing.
    from accounts import tokens

    token = tokens.new_token()
    Invitation.objects.filter(pk=invitation.pk).update(token_hash=tokens.token_hash(token))

    services.invitation_accept(token=token, user=alice)

    assert acme.memberships.get(user=alice).role == "admin"
