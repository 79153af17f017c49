"""Every client operation, written once as a generator that yields calls and receives answers.

``TenantSecurityClient`` drives these with blocking I/O and ``AsyncTenantSecurityClient`` with
``await``; the cryptography, validation and key wiping live only here. Keys are wiped in
``finally`` blocks, so they are cleared even when a later step raises.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any, BinaryIO, TypeVar

from . import _core as core
from . import _deterministic as det
from . import _format as fmt
from . import _streaming as streaming
from ._exceptions import AlreadyEncryptedError, ProxyError, TenantSecurityError
from ._metadata import RequestMetadata
from ._models import (
    BatchResult,
    DeterministicEncryptedField,
    DeterministicPlaintextField,
    DocumentFields,
    EncryptedDocument,
    PlaintextDocument,
)

T = TypeVar("T")
Operation = Generator[core.Call, Any, T]


def _refuse_encrypted(document: DocumentFields) -> None:
    for value in document.values():
        if fmt.is_encrypted(value):
            raise AlreadyEncryptedError("refusing to encrypt an already encrypted document")


def encrypt_fields(
    key: fmt.DataKey, tenant_id: str, document: DocumentFields
) -> dict[str, bytes | bytearray]:
    """Encrypt every field with the same DEK; each field gets its own header IV and data IV."""
    _refuse_encrypted(document)
    return {
        name: fmt.encrypt_field(key.aes, fmt.build_prefix(key.aes, tenant_id), value)
        for name, value in document.items()
    }


def decrypt_fields(
    key: fmt.DataKey, fields: Mapping[str, Any], verified: set[bytes] | None = None
) -> dict[str, bytes]:
    """Decrypt every field; one failure fails the document (no partial plaintext returned)."""
    return {name: fmt.decrypt_field(key.aes, value, verified) for name, value in fields.items()}


def encrypt(meta: RequestMetadata, document: DocumentFields) -> Operation[EncryptedDocument]:
    """Wrap a new DEK and encrypt the document with it."""
    _refuse_encrypted(document)  # before asking the proxy for a key we would not use
    key, edek = core.parse_wrap((yield core.wrap_call(meta)))
    try:
        return EncryptedDocument(encrypt_fields(key, meta.tenant_id, document), edek)
    finally:
        key.wipe()


def encrypt_with_existing_key(
    meta: RequestMetadata, document: DocumentFields, edek: str
) -> Operation[EncryptedDocument]:
    """Re-encrypt (changed) fields of a document under the DEK its EDEK already wraps."""
    _refuse_encrypted(document)
    key = core.parse_unwrap((yield core.unwrap_call(meta, edek)))
    try:
        return EncryptedDocument(encrypt_fields(key, meta.tenant_id, document), edek)
    finally:
        key.wipe()


def decrypt(meta: RequestMetadata, document: EncryptedDocument) -> Operation[PlaintextDocument]:
    """Unwrap the document's EDEK and decrypt every field."""
    key = core.parse_unwrap((yield core.unwrap_call(meta, document.edek)))
    try:
        return PlaintextDocument(decrypt_fields(key, document.fields), document.edek)
    finally:
        key.wipe()


def encrypt_batch(
    meta: RequestMetadata, documents: Mapping[str, DocumentFields]
) -> Operation[BatchResult[EncryptedDocument]]:
    """One ``batch-wrap`` for all documents, then local encryption; failures are per document."""
    result: BatchResult[EncryptedDocument] = BatchResult()
    wanted = []
    for doc_id, document in documents.items():
        try:
            _refuse_encrypted(document)
            wanted.append(doc_id)
        except AlreadyEncryptedError as exc:
            result.failures[doc_id] = exc
    if not wanted:
        return result
    keys, failures = core.parse_batch_keys(
        (yield core.batch_wrap_call(meta, wanted)), with_edek=True
    )
    result.failures.update(failures)
    for doc_id, (key, edek) in keys.items():
        try:
            if doc_id in documents and edek is not None:
                fields = encrypt_fields(key, meta.tenant_id, documents[doc_id])
                result.successes[doc_id] = EncryptedDocument(fields, edek)
        except TenantSecurityError as exc:
            result.failures[doc_id] = exc
        finally:
            key.wipe()
    _note_missing(result, wanted)
    return result


def _note_missing(result: BatchResult[Any], wanted: Any) -> None:
    # A proxy that answers for fewer documents than asked must not make documents vanish.
    for doc_id in wanted:
        if doc_id not in result.successes and doc_id not in result.failures:
            result.failures[doc_id] = ProxyError("the proxy returned no key for this document")


def decrypt_batch(
    meta: RequestMetadata, documents: Mapping[str, EncryptedDocument]
) -> Operation[BatchResult[PlaintextDocument]]:
    """One ``batch-unwrap`` for all documents, then local decryption; failures are per document."""
    result: BatchResult[PlaintextDocument] = BatchResult()
    if not documents:
        return result
    edeks = {doc_id: doc.edek for doc_id, doc in documents.items()}
    keys, failures = core.parse_batch_keys(
        (yield core.batch_unwrap_call(meta, edeks)), with_edek=False
    )
    result.failures.update(failures)
    for doc_id, (key, _) in keys.items():
        try:
            if doc_id in documents:
                document = documents[doc_id]
                fields = decrypt_fields(key, document.fields)
                result.successes[doc_id] = PlaintextDocument(fields, document.edek)
        except TenantSecurityError as exc:
            result.failures[doc_id] = exc
        finally:
            key.wipe()
    _note_missing(result, documents)
    return result


def rekey(meta: RequestMetadata, edek: str, new_tenant_id: str) -> Operation[str]:
    """Return an EDEK for ``new_tenant_id`` wrapping the same DEK; the fields stay as they are."""
    key, new_edek = core.parse_wrap((yield core.rekey_call(meta, edek, new_tenant_id)))
    key.wipe()  # the client has no use for the DEK itself
    return new_edek


def _derive(
    meta: RequestMetadata, fields: list[DeterministicPlaintextField] | list[Any]
) -> Operation[Any]:
    paths: dict[str, list[str]] = {}
    for field in fields:
        paths.setdefault(field.secret_path, []).append(field.derivation_path)
    return (yield core.derive_call(meta, paths))


def deterministic_encrypt(
    meta: RequestMetadata, field: DeterministicPlaintextField
) -> Operation[DeterministicEncryptedField]:
    """Encrypt under the current derived key for the field's paths."""
    keys = core.parse_derived(
        (yield from _derive(meta, [field])), field.secret_path, field.derivation_path
    )
    try:
        ciphertext = det.encrypt_with(keys.current(), field.plaintext)
    finally:
        keys.wipe()
    return DeterministicEncryptedField(ciphertext, field.derivation_path, field.secret_path)


def deterministic_decrypt(
    meta: RequestMetadata, field: DeterministicEncryptedField
) -> Operation[DeterministicPlaintextField]:
    """Decrypt with the derived key whose tenant secret id the field names."""
    det.secret_id_of(field.ciphertext)  # refuse malformed input before calling the proxy
    keys = core.parse_derived(
        (yield from _derive(meta, [field])), field.secret_path, field.derivation_path
    )
    try:
        plaintext = det.decrypt_with(keys, field.ciphertext)
    finally:
        keys.wipe()
    return DeterministicPlaintextField(plaintext, field.derivation_path, field.secret_path)


def deterministic_rotate(
    meta: RequestMetadata, field: DeterministicEncryptedField
) -> Operation[DeterministicEncryptedField]:
    """Re-encrypt under the current key; a field already under it is returned unchanged."""
    keys = core.parse_derived(
        (yield from _derive(meta, [field])), field.secret_path, field.derivation_path
    )
    try:
        current = keys.current()
        if det.secret_id_of(field.ciphertext) == current.tenant_secret_id:
            return field
        plaintext = det.decrypt_with(keys, field.ciphertext)
        ciphertext = det.encrypt_with(current, plaintext)
    finally:
        keys.wipe()
    return DeterministicEncryptedField(ciphertext, field.derivation_path, field.secret_path)


def search_terms(
    meta: RequestMetadata, field: DeterministicPlaintextField
) -> Operation[list[DeterministicEncryptedField]]:
    """The query value encrypted under every live key (current first) for ``IN (...)`` queries."""
    keys = core.parse_derived(
        (yield from _derive(meta, [field])), field.secret_path, field.derivation_path
    )
    try:
        terms = det.search_terms(keys, field.plaintext)
    finally:
        keys.wipe()
    return [DeterministicEncryptedField(t, field.derivation_path, field.secret_path) for t in terms]


def security_event(meta: RequestMetadata, event: str, timestamp_millis: int) -> Operation[None]:
    """Send one security event; success means the proxy accepted it, not that it was delivered."""
    yield core.event_call(meta, event, timestamp_millis)
    return None


def new_key(meta: RequestMetadata) -> Operation[tuple[fmt.DataKey, str]]:
    """Wrap a new DEK and hand it over unwiped (the caller owns it: cached keys)."""
    return core.parse_wrap((yield core.wrap_call(meta)))


def existing_key(meta: RequestMetadata, edek: str) -> Operation[fmt.DataKey]:
    """Unwrap an EDEK and hand the DEK over unwiped (the caller owns it: cached keys)."""
    return core.parse_unwrap((yield core.unwrap_call(meta, edek)))


def encrypt_stream(meta: RequestMetadata, src: BinaryIO, dst: BinaryIO) -> Operation[str]:
    """Wrap a new DEK and stream-encrypt ``src`` into ``dst``; return the EDEK."""
    key, edek = core.parse_wrap((yield core.wrap_call(meta)))
    try:
        streaming.encrypt_stream(key, meta.tenant_id, src, dst)
    finally:
        key.wipe()
    return edek


def decrypt_stream(
    meta: RequestMetadata, edek: str, src: BinaryIO, dst: BinaryIO
) -> Operation[int]:
    """Unwrap the EDEK and stream-decrypt ``src`` into ``dst`` (verified before release)."""
    key = core.parse_unwrap((yield core.unwrap_call(meta, edek)))
    try:
        return streaming.decrypt_stream(key, src, dst)
    finally:
        key.wipe()
