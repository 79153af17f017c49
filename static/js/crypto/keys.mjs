// Key ids, fingerprints and organisation key pairs (DESIGN.md §2), as opencmk_crypto._keys.
import { concatBytes, toBytes } from "./encoding.mjs";
import { CryptoError } from "./errors.mjs";
import { sodium } from "./sodium.mjs";

const KID_RE = /^[0-9a-f]{32}$/;

/** Lowercase hex of BLAKE2b-128 (crypto_generichash, 16 bytes) of a 32-byte public key. */
export function kid(publicKey) {
  const pub = toBytes(publicKey);
  if (pub.length !== 32) {
    throw new CryptoError("public key must be 32 bytes");
  }
  const s = sodium();
  return s.to_hex(s.crypto_generichash(16, pub, null));
}

export function isKid(value) {
  return typeof value === "string" && KID_RE.test(value);
}

/** A kid shown for humans: groups of four characters separated by spaces. */
export function fingerprint(kidValue) {
  if (!isKid(kidValue)) {
    throw new CryptoError("not a kid");
  }
  return kidValue.match(/.{4}/g).join(" ");
}

/**
 * An Ed25519 signing key and an X25519 encryption key held together (user, vendor root,
 * tenant root and cluster keys). Private parts sit in #private fields, so JSON.stringify and
 * console logging show only public parts.
 */
export class OrgKeys {
  #seed;
  #signingSecret;
  #encryptionSecret;

  constructor(seed, encryptionSecret) {
    const s = sodium();
    if (toBytes(seed).length !== 32 || toBytes(encryptionSecret).length !== 32) {
      throw new CryptoError("organisation key secrets must be 32 bytes each");
    }
    const signing = s.crypto_sign_seed_keypair(seed);
    this.#seed = Uint8Array.from(seed);
    this.#signingSecret = signing.privateKey;
    this.#encryptionSecret = Uint8Array.from(encryptionSecret);
    this.signingPublic = signing.publicKey;
    this.encryptionPublic = s.crypto_scalarmult_base(this.#encryptionSecret);
    Object.freeze(this);
  }

  static generate() {
    const s = sodium();
    return new OrgKeys(s.randombytes_buf(32), s.crypto_box_keypair().privateKey);
  }

  /** Ed25519 seed (32) || X25519 secret key (32): the layout Python's to_secret_bytes uses. */
  static fromSecretBytes(secret) {
    if (toBytes(secret).length !== 64) {
      throw new CryptoError("organisation key secret must be 64 bytes");
    }
    return new OrgKeys(secret.slice(0, 32), secret.slice(32));
  }

  toSecretBytes() {
    return concatBytes(this.#seed, this.#encryptionSecret);
  }

  get kid() {
    return kid(this.signingPublic);
  }

  /** The kid a sealed config uses to name this key as a recipient. */
  get encryptionKid() {
    return kid(this.encryptionPublic);
  }

  /** libsodium's 64-byte Ed25519 secret key, for crypto_sign_detached. */
  signDetached(message) {
    return sodium().crypto_sign_detached(message, this.#signingSecret);
  }

  /** Opens a crypto_box_seal box addressed to this key's X25519 public key. */
  openSealedBox(box) {
    return sodium().crypto_box_seal_open(box, this.encryptionPublic, this.#encryptionSecret);
  }

  /** Overwrites the private parts in memory (logout, idle timeout). */
  wipe() {
    const s = sodium();
    s.memzero(this.#seed);
    s.memzero(this.#signingSecret);
    s.memzero(this.#encryptionSecret);
  }

  toJSON() {
    return { kid: this.kid };
  }
}
