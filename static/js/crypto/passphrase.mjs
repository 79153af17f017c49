// Passphrase-wrapped secrets (DESIGN.md §2), as opencmk_crypto.passphrase: Argon2id13 derives a
// key from the NFC-normalised UTF-8 passphrase, crypto_secretbox (XSalsa20-Poly1305) encrypts.
import { b64d, b64e, toBytes, utf8 } from "./encoding.mjs";
import { CryptoError, PassphraseError } from "./errors.mjs";
import { sodium } from "./sodium.mjs";

export const ALG = "argon2id13+xsalsa20poly1305";
// libsodium's constants for Argon2id, the same numbers PyNaCl exposes.
export const OPSLIMIT_INTERACTIVE = 2;
export const MEMLIMIT_INTERACTIVE = 67108864;
export const OPSLIMIT_MODERATE = 3;
export const MEMLIMIT_MODERATE = 268435456;
export const OPSLIMIT_SENSITIVE = 4;
export const MEMLIMIT_SENSITIVE = 1073741824;
// Below INTERACTIVE is too weak to accept; above SENSITIVE a hostile blob could make the tab
// allocate gigabytes.
const MIN_OPS = OPSLIMIT_INTERACTIVE;
const MAX_OPS = OPSLIMIT_SENSITIVE;
const MIN_MEM = MEMLIMIT_INTERACTIVE;
const MAX_MEM = MEMLIMIT_SENSITIVE;
const BLOB_FIELDS = ["alg", "ciphertext", "memlimit", "nonce", "opslimit", "salt", "v"];
const MAX_SECRET_BYTES = 4096;

function passphraseBytes(passphrase) {
  if (typeof passphrase !== "string" || passphrase === "") {
    throw new PassphraseError("passphrase must be a non-empty string");
  }
  return utf8(passphrase.normalize("NFC"));
}

function checkLimits(opslimit, memlimit) {
  if (!Number.isSafeInteger(opslimit) || opslimit < MIN_OPS || opslimit > MAX_OPS) {
    throw new PassphraseError("opslimit out of range");
  }
  if (!Number.isSafeInteger(memlimit) || memlimit < MIN_MEM || memlimit > MAX_MEM) {
    throw new PassphraseError("memlimit out of range");
  }
}

function derive(passphrase, salt, opslimit, memlimit) {
  const s = sodium();
  return s.crypto_pwhash(
    s.crypto_secretbox_KEYBYTES, passphraseBytes(passphrase), salt, opslimit, memlimit,
    s.crypto_pwhash_ALG_ARGON2ID13,
  );
}

/** Encrypts secret under a key derived from passphrase; parameters travel in the blob. */
export function wrapSecret(secret, passphrase, { opslimit = OPSLIMIT_MODERATE, memlimit = MEMLIMIT_MODERATE } = {}) {
  const bytes = toBytes(secret);
  if (bytes.length === 0 || bytes.length > MAX_SECRET_BYTES) {
    throw new PassphraseError("secret must be 1 to 4096 bytes");
  }
  checkLimits(opslimit, memlimit);
  const s = sodium();
  const salt = s.randombytes_buf(s.crypto_pwhash_SALTBYTES);
  const nonce = s.randombytes_buf(s.crypto_secretbox_NONCEBYTES);
  const key = derive(passphrase, salt, opslimit, memlimit);
  const ciphertext = s.crypto_secretbox_easy(bytes, nonce, key);
  s.memzero(key);
  return { v: 1, alg: ALG, salt: b64e(salt), opslimit, memlimit, nonce: b64e(nonce), ciphertext: b64e(ciphertext) };
}

function decodeBlob(blob) {
  const fields = blob !== null && typeof blob === "object" && !Array.isArray(blob) ? Object.keys(blob).sort() : [];
  if (fields.join(",") !== BLOB_FIELDS.join(",")) {
    throw new PassphraseError("passphrase blob has missing or unexpected fields");
  }
  if (blob.v !== 1 || blob.alg !== ALG) {
    throw new PassphraseError("unsupported passphrase blob version or algorithm");
  }
  checkLimits(blob.opslimit, blob.memlimit);
  let salt;
  let nonce;
  let ciphertext;
  try {
    [salt, nonce, ciphertext] = [b64d(blob.salt), b64d(blob.nonce), b64d(blob.ciphertext)];
  } catch (error) {
    if (error instanceof CryptoError) {
      throw new PassphraseError("passphrase blob field is not valid base64");
    }
    throw error;
  }
  if (salt.length !== 16 || nonce.length !== 24) {
    throw new PassphraseError("passphrase blob salt or nonce has the wrong size");
  }
  if (ciphertext.length <= 16 || ciphertext.length > MAX_SECRET_BYTES + 16) {
    throw new PassphraseError("passphrase blob ciphertext has an impossible size");
  }
  return { salt, nonce, ciphertext, opslimit: blob.opslimit, memlimit: blob.memlimit };
}

/** Structure and parameter checks only. */
export function validatePassphraseBlob(blob) {
  decodeBlob(blob);
}

/** Decrypts a blob made by wrapSecret (either language); PassphraseError on any failure. */
export function unwrapSecret(blob, passphrase) {
  const { salt, nonce, ciphertext, opslimit, memlimit } = decodeBlob(blob);
  const s = sodium();
  const key = derive(passphrase, salt, opslimit, memlimit);
  try {
    return s.crypto_secretbox_open_easy(ciphertext, nonce, key);
  } catch {
    throw new PassphraseError("wrong passphrase or corrupted blob");
  } finally {
    s.memzero(key);
  }
}
