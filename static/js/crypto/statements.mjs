// Signed statements (DESIGN.md §3), as opencmk_crypto.statements. The Ed25519 signature covers
// "OpenCMK/1/" + type + "\n" + the exact payload bytes, so one type cannot pass as another and
// no JSON canonicalisation is needed to verify.
import { b64d, b64e, canonicalJson, concatBytes, fromUtf8, strictJsonParse, toBytes, utf8 } from "./encoding.mjs";
import { CryptoError, StatementError } from "./errors.mjs";
import { kid } from "./keys.mjs";
import { sodium } from "./sodium.mjs";

export const STATEMENT_TYPES = Object.freeze([
  "proxy-cluster",
  "proxy-cluster-revocation",
  "tenant-policy",
  "tenant-root",
]);
export const SIGNING_PREFIX = "OpenCMK/1/";
export const MAX_PAYLOAD_BYTES = 256 * 1024;
const STATEMENT_FIELDS = ["kid", "payload", "sig", "type"];
const ISSUED_AT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|\+00:00)$/;

/** The exact bytes a statement signature covers. */
export function signedBytes(type, payloadBytes) {
  return concatBytes(utf8(`${SIGNING_PREFIX}${type}\n`), payloadBytes);
}

/** Now as RFC 3339 UTC with seconds, the form payloads carry in issued_at. */
export function issuedAtNow() {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

function checkType(type) {
  if (typeof type !== "string" || !STATEMENT_TYPES.includes(type)) {
    throw new StatementError("unknown statement type");
  }
  return type;
}

function checkIssuedAt(value) {
  if (typeof value !== "string" || !ISSUED_AT_RE.test(value)) {
    throw new StatementError("issued_at must be an RFC 3339 UTC timestamp");
  }
  const [date, time] = value.split("T");
  const [y, m, d] = date.split("-").map(Number);
  const [hh, mm, ss] = time.slice(0, 8).split(":").map(Number);
  const parsed = new Date(Date.UTC(y, m - 1, d, hh, mm, ss));
  // Reject dates such as 02-30 that Date would silently roll over (Python refuses them).
  if (parsed.getUTCMonth() !== m - 1 || parsed.getUTCDate() !== d || hh > 23 || mm > 59 || ss > 59) {
    throw new StatementError("issued_at is not a valid date");
  }
}

/** Checks type (equal to the statement's), vendor_id and issued_at in a payload. */
export function checkCommonPayload(type, payload) {
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
    throw new StatementError("payload must be a JSON object");
  }
  if (payload.type !== type) {
    throw new StatementError("payload type does not match the statement type");
  }
  const vendor = payload.vendor_id;
  if (!((typeof vendor === "string" && vendor !== "") || Number.isSafeInteger(vendor))) {
    throw new StatementError("payload needs a vendor_id");
  }
  checkIssuedAt(payload.issued_at);
  return payload;
}

/** Signs payload as a statement of type with an OrgKeys; returns {type, kid, payload, sig}. */
export function signStatement(type, payload, signer) {
  checkType(type);
  checkCommonPayload(type, payload);
  let payloadBytes;
  try {
    payloadBytes = canonicalJson(payload);
  } catch {
    throw new StatementError("payload is not serialisable as canonical JSON");
  }
  if (payloadBytes.length > MAX_PAYLOAD_BYTES) {
    throw new StatementError("payload too large");
  }
  const sig = signer.signDetached(signedBytes(type, payloadBytes));
  return { type, kid: signer.kid, payload: b64e(payloadBytes), sig: b64e(sig) };
}

function decodeStructure(statement) {
  if (statement === null || typeof statement !== "object" || Array.isArray(statement)) {
    throw new StatementError("statement must be an object");
  }
  const keys = Object.keys(statement).sort();
  if (keys.join(",") !== STATEMENT_FIELDS.join(",")) {
    throw new StatementError("statement must have exactly type, kid, payload and sig");
  }
  const { type, kid: kidValue, payload, sig } = statement;
  if (![type, kidValue, payload, sig].every((v) => typeof v === "string")) {
    throw new StatementError("statement fields must be strings");
  }
  checkType(type);
  let payloadBytes;
  let sigBytes;
  try {
    payloadBytes = b64d(payload);
    sigBytes = b64d(sig);
  } catch (error) {
    if (error instanceof CryptoError) {
      throw new StatementError("statement payload or sig is not valid base64");
    }
    throw error;
  }
  if (payloadBytes.length > MAX_PAYLOAD_BYTES) {
    throw new StatementError("payload too large");
  }
  if (sigBytes.length !== 64) {
    throw new StatementError("signature must be 64 bytes");
  }
  return { type, kidValue, payloadBytes, sigBytes };
}

function parsePayload(type, payloadBytes) {
  let payload;
  try {
    payload = strictJsonParse(fromUtf8(payloadBytes));
  } catch {
    throw new StatementError("payload is not valid JSON");
  }
  return checkCommonPayload(type, payload);
}

/**
 * Verifies a statement and returns its payload. Structure, type and kid first, then the
 * signature, and only then is the payload parsed (DESIGN.md §3).
 */
export function verifyStatement(statement, { expectedType, publicKey }) {
  checkType(expectedType);
  const { type, kidValue, payloadBytes, sigBytes } = decodeStructure(statement);
  if (type !== expectedType) {
    throw new StatementError("statement has the wrong type");
  }
  const pub = toBytes(publicKey);
  if (pub.length !== 32) {
    throw new StatementError("public key must be 32 bytes");
  }
  if (kidValue !== kid(pub)) {
    throw new StatementError("statement was signed by a different key");
  }
  let valid = false;
  try {
    valid = sodium().crypto_sign_verify_detached(sigBytes, signedBytes(expectedType, payloadBytes), pub);
  } catch {
    valid = false;
  }
  if (!valid) {
    throw new StatementError("bad statement signature");
  }
  return parsePayload(expectedType, payloadBytes);
}

/** Decodes the payload WITHOUT checking the signature: for display only, never for trust. */
export function statementPayloadUnverified(statement) {
  const { type, payloadBytes } = decodeStructure(statement);
  return parsePayload(type, payloadBytes);
}
