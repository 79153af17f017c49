// Sealed configs (DESIGN.md §4), as opencmk_crypto.sealing: XChaCha20-Poly1305-IETF under a
// fresh CEK, the CEK sealed (crypto_box_seal) to each recipient; the AD binds tenant id,
// config id and kind so a blob served for another tenant, config or kind fails to decrypt.
import { b64d, b64e, concatBytes, toBytes, utf8 } from "./encoding.mjs";
import { CryptoError, SealError } from "./errors.mjs";
import { isKid, kid } from "./keys.mjs";
import { sodium } from "./sodium.mjs";

export const KINDS = Object.freeze(["kms", "logging"]);
export const AD_PREFIX = "OpenCMK/1/sealed-config\n";
export const MAX_CONFIG_ID = 2 ** 31 - 1;
export const MAX_TENANT_ID_LENGTH = 1024;
export const MAX_PLAINTEXT_BYTES = 64 * 1024;
export const MAX_RECIPIENTS = 256;
const SEALED_FIELDS = ["ciphertext", "config_id", "kind", "nonce", "recipients", "tenant_id", "v"];
const SEALED_KEY_SIZE = 48 + 32;

/** "OpenCMK/1/sealed-config\n" + tenant_id + "\n" + config_id + "\n" + kind, as UTF-8. */
export function associatedData(tenantId, configId, kind) {
  return utf8(`${AD_PREFIX}${tenantId}\n${configId}\n${kind}`);
}

function checkHeader(kind, tenantId, configId) {
  if (!KINDS.includes(kind)) {
    throw new SealError("kind must be 'kms' or 'logging'");
  }
  // Python counts code points; JavaScript's length counts UTF-16 units: count code points.
  if (typeof tenantId !== "string" || tenantId === "" || [...tenantId].length > MAX_TENANT_ID_LENGTH) {
    throw new SealError("tenant_id must be a non-empty string");
  }
  if (!Number.isSafeInteger(configId) || configId <= 0 || configId > MAX_CONFIG_ID) {
    throw new SealError("config_id must be a positive 32-bit integer");
  }
}

function b64Field(value, name) {
  try {
    return b64d(value);
  } catch (error) {
    if (error instanceof CryptoError) {
      throw new SealError(`${name} is not valid base64`);
    }
    throw error;
  }
}

function exactKeys(object, expected) {
  return (
    object !== null &&
    typeof object === "object" &&
    !Array.isArray(object) &&
    Object.keys(object).sort().join(",") === expected.join(",")
  );
}

function checkRecipients(recipients) {
  if (!Array.isArray(recipients) || recipients.length === 0 || recipients.length > MAX_RECIPIENTS) {
    throw new SealError("recipients must be a non-empty list");
  }
  const seen = new Set();
  for (const entry of recipients) {
    if (!exactKeys(entry, ["kid", "sealed_key"])) {
      throw new SealError("each recipient has exactly kid and sealed_key");
    }
    if (!isKid(entry.kid) || seen.has(entry.kid)) {
      throw new SealError("recipient kid malformed or repeated");
    }
    seen.add(entry.kid);
    if (b64Field(entry.sealed_key, "sealed_key").length !== SEALED_KEY_SIZE) {
      throw new SealError("sealed_key has the wrong size");
    }
  }
}

/** Structure and size checks only: what a party without a private key can check. */
export function validateSealedStructure(sealed) {
  if (!exactKeys(sealed, SEALED_FIELDS)) {
    throw new SealError("sealed config has missing or unexpected fields");
  }
  if (sealed.v !== 1) {
    throw new SealError("unsupported sealed config version");
  }
  checkHeader(sealed.kind, sealed.tenant_id, sealed.config_id);
  if (b64Field(sealed.nonce, "nonce").length !== 24) {
    throw new SealError("nonce must be 24 bytes");
  }
  const ciphertext = b64Field(sealed.ciphertext, "ciphertext");
  if (ciphertext.length < 16 || ciphertext.length > MAX_PLAINTEXT_BYTES + 16) {
    throw new SealError("ciphertext has an impossible size");
  }
  checkRecipients(sealed.recipients);
}

function recipientKid(publicKey) {
  const pub = toBytes(publicKey);
  if (pub.length !== 32) {
    throw new SealError("recipient public key must be 32 bytes");
  }
  return kid(pub);
}

function sealKey(cek, publicKey) {
  const recipient = recipientKid(publicKey);
  return { kid: recipient, sealed_key: b64e(sodium().crypto_box_seal(cek, publicKey)) };
}

/** Encrypts plaintext (Uint8Array or string) under a fresh CEK sealed to every recipient. */
export function sealConfig({ kind, tenantId, configId, plaintext, recipients }) {
  checkHeader(kind, tenantId, configId);
  const message = typeof plaintext === "string" ? utf8(plaintext) : toBytes(plaintext);
  if (message.length > MAX_PLAINTEXT_BYTES) {
    throw new SealError("plaintext must be at most 64 KiB");
  }
  if (!Array.isArray(recipients) || recipients.length === 0 || recipients.length > MAX_RECIPIENTS) {
    throw new SealError("need between 1 and 256 recipients");
  }
  const kids = recipients.map(recipientKid);
  if (new Set(kids).size !== kids.length) {
    throw new SealError("recipient listed twice");
  }
  const s = sodium();
  const cek = s.randombytes_buf(32); // DESIGN.md §4: fresh for every config version
  const nonce = s.randombytes_buf(24);
  const ciphertext = s.crypto_aead_xchacha20poly1305_ietf_encrypt(
    message, associatedData(tenantId, configId, kind), null, nonce, cek,
  );
  const sealed = {
    v: 1,
    kind,
    tenant_id: tenantId,
    config_id: configId,
    nonce: b64e(nonce),
    ciphertext: b64e(ciphertext),
    recipients: recipients.map((r) => sealKey(cek, r)),
  };
  s.memzero(cek);
  return sealed;
}

function opener(privateKey) {
  // An OrgKeys, or a raw 32-byte X25519 secret key (e.g. a cluster key in tests).
  if (privateKey && typeof privateKey.openSealedBox === "function") {
    return { publicKey: privateKey.encryptionPublic, open: (box) => privateKey.openSealedBox(box) };
  }
  const secret = toBytes(privateKey);
  if (secret.length !== 32) {
    throw new SealError("private key must be 32 bytes");
  }
  const s = sodium();
  const publicKey = s.crypto_scalarmult_base(secret);
  return { publicKey, open: (box) => s.crypto_box_seal_open(box, publicKey, secret) };
}

function openCek(sealed, privateKey) {
  const { publicKey, open } = opener(privateKey);
  const ownKid = kid(publicKey);
  const entry = sealed.recipients.find((r) => r.kid === ownKid);
  if (entry === undefined) {
    throw new SealError("sealed config is not addressed to this key");
  }
  let cek;
  try {
    cek = open(b64d(entry.sealed_key));
  } catch {
    throw new SealError("cannot open the sealed key");
  }
  if (cek.length !== 32) {
    throw new SealError("sealed key has the wrong size");
  }
  return cek;
}

function decrypt(sealed, cek) {
  const ad = associatedData(sealed.tenant_id, sealed.config_id, sealed.kind);
  try {
    return sodium().crypto_aead_xchacha20poly1305_ietf_decrypt(
      null, b64d(sealed.ciphertext), ad, b64d(sealed.nonce), cek,
    );
  } catch {
    throw new SealError("sealed config does not decrypt (tampered or swapped)");
  }
}

function checkExpected(sealed, expected) {
  for (const [name, value] of Object.entries(expected)) {
    if (value !== undefined && value !== null && sealed[name] !== value) {
      throw new SealError(`sealed config ${name} does not match the expected one`);
    }
  }
}

/** Opens a sealed config addressed to privateKey; returns the plaintext bytes. */
export function openConfig(sealed, { privateKey, tenantId, configId, kind } = {}) {
  validateSealedStructure(sealed);
  checkExpected(sealed, { tenant_id: tenantId, config_id: configId, kind });
  const cek = openCek(sealed, privateKey);
  try {
    return decrypt(sealed, cek);
  } finally {
    sodium().memzero(cek);
  }
}

/** A copy that newPublicKey can also open; same nonce and ciphertext, so same digest. */
export function addRecipient(sealed, { privateKey, newPublicKey }) {
  validateSealedStructure(sealed);
  const cek = openCek(sealed, privateKey);
  try {
    decrypt(sealed, cek); // only re-share a CEK that really opens this ciphertext
    const result = structuredClone(sealed);
    const entry = sealKey(cek, newPublicKey);
    if (!result.recipients.some((r) => r.kid === entry.kid)) {
      if (result.recipients.length >= MAX_RECIPIENTS) {
        throw new SealError("too many recipients");
      }
      result.recipients.push(entry);
    }
    return result;
  } finally {
    sodium().memzero(cek);
  }
}

/**
 * A copy under a fresh CEK and nonce, sealed to exactly `recipients`: same kind, tenant and
 * config id, same plaintext, new digest. Removing a recipient needs this, not a shorter list:
 * the CEK it holds would still open the old ciphertext.
 */
export function resealConfig(sealed, { privateKey, recipients }) {
  const plaintext = openConfig(sealed, { privateKey });
  try {
    return sealConfig({
      kind: sealed.kind,
      tenantId: sealed.tenant_id,
      configId: sealed.config_id,
      plaintext,
      recipients,
    });
  } finally {
    sodium().memzero(plaintext);
  }
}

/** base64 SHA-256 of nonce || ciphertext: what a tenant policy pins (DESIGN.md §4). */
export function contentDigest(sealed) {
  const bytes = concatBytes(b64Field(sealed.nonce, "nonce"), b64Field(sealed.ciphertext, "ciphertext"));
  return b64e(sodium().crypto_hash_sha256(bytes));
}
