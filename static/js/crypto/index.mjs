// OpenCMK browser crypto API. Mirrors opencmk_crypto (Python) name for name in camelCase and
// produces the same formats (docs/crypto.md). Call and await ready() first.
export { CryptoError, PassphraseError, SealError, StatementError } from "./errors.mjs";
export { b64d, b64e, canonicalJson } from "./encoding.mjs";
export { OrgKeys, fingerprint, isKid, kid } from "./keys.mjs";
export {
  MEMLIMIT_INTERACTIVE,
  MEMLIMIT_MODERATE,
  OPSLIMIT_INTERACTIVE,
  OPSLIMIT_MODERATE,
  unwrapSecret,
  validatePassphraseBlob,
  wrapSecret,
} from "./passphrase.mjs";
export {
  addRecipient,
  associatedData,
  contentDigest,
  openConfig,
  resealConfig,
  sealConfig,
  validateSealedStructure,
} from "./sealing.mjs";
export { backend, ready, sodiumVersion } from "./sodium.mjs";
export {
  STATEMENT_TYPES,
  issuedAtNow,
  signStatement,
  signedBytes,
  statementPayloadUnverified,
  verifyStatement,
} from "./statements.mjs";
export { verifiedClusterKeys } from "./trust.mjs";
