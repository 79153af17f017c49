"""Writes about invitations. Every state change records exactly one audit event."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts import tokens
from accounts.models import Invitation, InvitationStatus, User
from accounts.tasks import send_rendered_email
from audit.actors import Actor
from audit.services import record
from tenants.models import TenantMembership, TenantStatus
from vendors.models import Role, VendorMembership

if TYPE_CHECKING:
    from tenants.models import Tenant
    from vendors.models import Vendor


class InvitationError(Exception):
    """An invitation cannot be used or changed; ``str()`` is safe to show the user."""


class InvitationUnavailableError(InvitationError):
    def __init__(self, status: InvitationStatus) -> None:
        super().__init__(f"This invitation is {status.label.lower()}.")
        self.status = status


class InvitationEmailMismatchError(InvitationError):
    pass


def _expiry() -> timedelta:
    return timedelta(days=settings.OPENCMK_INVITATION_DAYS)


@transaction.atomic
def invitation_create(
    *,
    actor: Actor,
    vendor: Vendor,
    tenant: Tenant | None = None,
    issued_by: str,
    email: str,
    role: str,
    invited_by: User | None = None,
) -> Invitation:
    token = tokens.new_token()
    now = timezone.now()
    invitation = Invitation(
        kind=Invitation.Kind.TENANT if tenant is not None else Invitation.Kind.VENDOR,
        issued_by=issued_by,
        vendor=vendor,
        tenant=tenant,
        email=email.strip().lower(),
        role=role,
        token_hash=tokens.token_hash(token),
        invited_by=invited_by,
        sent_at=now,
        expires_at=now + _expiry(),
    )
    invitation.full_clean()
    invitation.save()
    record(
        action="invitation.created",
        actor=actor,
        vendor=vendor,
        tenant=tenant,
        target=invitation,
        data={"role": role, "kind": invitation.kind},
    )
    _send_on_commit(invitation, token)
    return invitation


@transaction.atomic
def invitation_resend(*, actor: Actor, invitation: Invitation) -> Invitation:
    """A new token and expiry; the previous link stops working at once."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    status = invitation.status
    if status in (InvitationStatus.ACCEPTED, InvitationStatus.REVOKED):
        raise InvitationUnavailableError(status)
    token = tokens.new_token()
    invitation.token_hash = tokens.token_hash(token)
    invitation.sent_at = timezone.now()
    invitation.expires_at = invitation.sent_at + _expiry()
    invitation.save(update_fields=["token_hash", "sent_at", "expires_at"])
    record(
        action="invitation.resent",
        actor=actor,
        vendor=invitation.vendor,
        tenant=invitation.tenant,
        target=invitation,
    )
    _send_on_commit(invitation, token)
    return invitation


@transaction.atomic
def invitation_revoke(*, actor: Actor, invitation: Invitation) -> Invitation:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    status = invitation.status
    if status is not InvitationStatus.PENDING and status is not InvitationStatus.EXPIRED:
        raise InvitationUnavailableError(status)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    record(
        action="invitation.revoked",
        actor=actor,
        vendor=invitation.vendor,
        tenant=invitation.tenant,
        target=invitation,
    )
    return invitation


def invitation_get_by_token(*, token: str) -> Invitation | None:
    return (
        Invitation.objects.select_related("vendor", "tenant")
        .filter(token_hash=tokens.token_hash(token))
        .first()
    )


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Invitation:
    """Make ``user`` a member; only a verified owner of the invited address may accept."""
    invitation = (
        # Lock only the invitation row: PostgreSQL cannot lock the nullable side of a join.
        Invitation.objects.select_for_update(of=("self",))
        .select_related("vendor", "tenant")
        .filter(token_hash=tokens.token_hash(token))
        .first()
    )
    if invitation is None:
        raise InvitationError("This invitation link is not valid.")
    status = invitation.status
    if status is not InvitationStatus.PENDING:
        raise InvitationUnavailableError(status)
    if not user_has_verified_email(user, invitation.email):
        raise InvitationEmailMismatchError(
            "This invitation was sent to a different e-mail address than the ones verified on "
            "your account."
        )
    _grant_membership(invitation, user)
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    record(
        action="invitation.accepted",
        actor=Actor.for_user(user),
        vendor=invitation.vendor,
        tenant=invitation.tenant,
        target=invitation,
        data={"role": invitation.role, "kind": invitation.kind},
    )
    return invitation


def user_has_verified_email(user: User, email: str) -> bool:
    return EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists()


def _grant_membership(invitation: Invitation, user: User) -> None:
    # An existing member keeps the stronger of the two roles: an invitation never demotes.
    if invitation.tenant is not None:
        tenant = invitation.tenant
        t_member, created = TenantMembership.objects.get_or_create(
            tenant=tenant, user=user, defaults={"role": invitation.role}
        )
        if not created and invitation.role == Role.ADMIN:
            t_member.role = Role.ADMIN
            t_member.save(update_fields=["role"])
        if invitation.role == Role.ADMIN and tenant.status == TenantStatus.INVITED:
            tenant.status = TenantStatus.ACCEPTED
            tenant.save(update_fields=["status", "updated_at"])
        return
    v_member, created = VendorMembership.objects.get_or_create(
        vendor=invitation.vendor, user=user, defaults={"role": invitation.role}
    )
    if not created and invitation.role == Role.ADMIN:
        v_member.role = Role.ADMIN
        v_member.save(update_fields=["role"])


def _send_on_commit(invitation: Invitation, token: str) -> None:
    path = reverse("accounts:invitation_accept", kwargs={"token": token})
    context = {
        "invitation": invitation,
        "organisation": invitation.organisation_name,
        "accept_url": settings.SITE_URL + path,
        "days": settings.OPENCMK_INVITATION_DAYS,
    }
    subject = render_to_string("accounts/email/invitation_subject.txt", context).strip()
    body = render_to_string("accounts/email/invitation_message.txt", context)
    to = [invitation.email]
    # The token leaves this process only inside the e-mail (via the task queue), never in logs.
    transaction.on_commit(
        lambda: send_rendered_email.delay(
            subject=subject,
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=to,
            alternatives=[],
        )
    )
