from __future__ import annotations

from typing import Any

import pytest

from audit.models import AuditEvent
from keyring import services
from keyring.errors import InvalidKeyMaterialError, KeyringConflictError
from keyring.models import UserKey
from opencmk_crypto import OrgKeys, b64e, kid, unwrap_secret

from .conftest import blob_for, pub, with_user_key

pytestmark = pytest.mark.django_db


def test_it_stores_public_keys_and_the_blob_the_browser_made(alice: Any) -> None:
    keys = OrgKeys.generate()
    blob = blob_for(keys, "my key passphrase 1")

    key = services.user_key_create(user=alice, **pub(keys), wrapped_secret=blob)

    assert key.kid == kid(keys.signing_public)
    assert key.signing_public == b64e(keys.signing_public)
    assert unwrap_secret(key.wrapped_secret, "my key passphrase 1") == keys.to_secret_bytes()
    event = AuditEvent.objects.get(action="user_key.created")
    assert event.actor_id == str(alice.public_id)


def test_it_refuses_a_second_user_key(alice: Any) -> None:
    with_user_key(alice)
    keys = OrgKeys.generate()
    with pytest.raises(KeyringConflictError):
        services.user_key_create(user=alice, **pub(keys), wrapped_secret=blob_for(keys))
    assert UserKey.objects.filter(user=alice).count() == 1


@pytest.mark.parametrize(
    "field, value",
    [
        ("signing_public", "not base64!"),
        ("signing_public", b64e(b"\x01" * 31)),
        ("encryption_public", b64e(b"\x01" * 33)),
    ],
)
def test_it_rejects_malformed_public_keys(alice: Any, field: str, value: str) -> None:
    keys = OrgKeys.generate()
    args = {**pub(keys), field: value}
    with pytest.raises(InvalidKeyMaterialError):
        services.user_key_create(user=alice, **args, wrapped_secret=blob_for(keys))
    assert not AuditEvent.objects.filter(action="user_key.created").exists()


def test_it_rejects_identical_signing_and_encryption_keys(alice: Any) -> None:
    keys = OrgKeys.generate()
    same = b64e(keys.signing_public)
    with pytest.raises(InvalidKeyMaterialError):
        services.user_key_create(
            user=alice, signing_public=same, encryption_public=same, wrapped_secret=blob_for(keys)
        )


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: {**b, "opslimit": 1},  # weaker than INTERACTIVE
        lambda b: {**b, "memlimit": 2**40},  # a hostile blob could exhaust browser memory
        lambda b: {k: v for k, v in b.items() if k != "salt"},
        lambda b: {**b, "alg": "plaintext"},
        lambda b: {**b, "extra": "field"},
    ],
    ids=["weak-ops", "huge-mem", "no-salt", "alg", "extra-field"],
)
def test_it_rejects_malformed_passphrase_blobs(alice: Any, mutate: Any) -> None:
    keys = OrgKeys.generate()
    with pytest.raises(InvalidKeyMaterialError):
        services.user_key_create(user=alice, **pub(keys), wrapped_secret=mutate(blob_for(keys)))


def test_passphrase_change_rewraps_and_keeps_the_public_keys(alice: Any) -> None:
    holder = with_user_key(alice)
    before = holder.user_key
    new_blob = blob_for(holder.keys, "a different passphrase 7")

    after = services.user_key_rewrap(user=alice, kid=before.kid, wrapped_secret=new_blob)

    assert (after.kid, after.signing_public) == (before.kid, before.signing_public)
    assert after.rotated_at is not None
    assert (
        unwrap_secret(after.wrapped_secret, "a different passphrase 7")
        == holder.keys.to_secret_bytes()
    )
    assert AuditEvent.objects.filter(action="user_key.passphrase_changed").count() == 1


def test_passphrase_change_refuses_a_stale_kid(alice: Any) -> None:
    holder = with_user_key(alice)
    with pytest.raises(KeyringConflictError):
        services.user_key_rewrap(user=alice, kid="0" * 32, wrapped_secret=blob_for(holder.keys))
