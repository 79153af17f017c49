#!/usr/bin/env node
// Verifies and opens vectors made by the other language (Python's opencmk_crypto) with the
// browser code. Exported for tests/js/cross_language.test.mjs; also a CLI that the Python tests
// run on freshly made vectors: node tests/js/check_vectors.mjs FILE.json (exit 0 = all good).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as c from "../../static/js/crypto/index.mjs";
import { keysFromLabel } from "./make_vectors.mjs";

const decoder = new TextDecoder();

function flipB64(value, index) {
  const raw = c.b64d(value);
  raw[index] ^= 1;
  return c.b64e(raw);
}

function checkKeys(vectors) {
  for (const role of ["signer", "recipient"]) {
    const keys = keysFromLabel(vectors[`${role}_label`]);
    const described = vectors[role];
    assert.equal(c.b64e(keys.signingPublic), described.signing_public);
    assert.equal(c.b64e(keys.encryptionPublic), described.encryption_public);
    assert.equal(keys.kid, described.kid);
    assert.equal(c.kid(c.b64d(described.signing_public)), described.kid);
    assert.equal(keys.encryptionKid, described.encryption_kid);
  }
}

function checkCanonicalJson(vectors) {
  for (const item of vectors.canonical_json) {
    assert.equal(c.b64e(c.canonicalJson(item.value)), item.bytes);
  }
}

function checkStatements(vectors) {
  const publicKey = c.b64d(vectors.signer.signing_public);
  assert.equal(vectors.statements.length, c.STATEMENT_TYPES.length);
  for (const { statement, payload } of vectors.statements) {
    const expectedType = payload.type;
    assert.deepEqual(c.verifyStatement(statement, { expectedType, publicKey }), payload);
    for (const other of c.STATEMENT_TYPES.filter((t) => t !== expectedType)) {
      assert.throws(() => c.verifyStatement(statement, { expectedType: other, publicKey }), c.StatementError);
      assert.throws(
        () => c.verifyStatement({ ...statement, type: other }, { expectedType: other, publicKey }),
        c.StatementError,
      );
    }
    for (const field of ["payload", "sig"]) {
      const changed = { ...statement, [field]: flipB64(statement[field], 5) };
      assert.throws(() => c.verifyStatement(changed, { expectedType, publicKey }), c.StatementError);
    }
    const stranger = c.OrgKeys.generate().signingPublic;
    assert.throws(() => c.verifyStatement(statement, { expectedType, publicKey: stranger }), c.StatementError);
  }
}

function checkSealed(vectors) {
  const recipient = keysFromLabel(vectors.recipient_label);
  for (const item of vectors.sealed) {
    const { sealed } = item;
    c.validateSealedStructure(sealed);
    assert.equal(c.contentDigest(sealed), item.content_digest);
    const plaintext = c.openConfig(sealed, {
      privateKey: recipient,
      tenantId: item.tenant_id,
      configId: item.config_id,
      kind: item.kind,
    });
    assert.equal(decoder.decode(plaintext), item.plaintext);
    const swapped = { ...sealed, tenant_id: `${sealed.tenant_id}x` };
    assert.throws(() => c.openConfig(swapped, { privateKey: recipient }), c.SealError);
    assert.throws(() => c.openConfig(sealed, { privateKey: c.OrgKeys.generate() }), c.SealError);
  }
}

function checkPassphrase(vectors) {
  for (const item of vectors.passphrase) {
    assert.equal(c.b64e(c.unwrapSecret(item.blob, item.unwrap_with)), item.secret);
    assert.throws(() => c.unwrapSecret(item.blob, `${item.unwrap_with}!`), c.PassphraseError);
  }
}

export const CHECKS = { checkKeys, checkCanonicalJson, checkStatements, checkSealed, checkPassphrase };

export async function checkVectors(vectors) {
  await c.ready();
  for (const check of Object.values(CHECKS)) {
    check(vectors);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const vectors = JSON.parse(readFileSync(process.argv[2], "utf8"));
  try {
    await checkVectors(vectors);
  } catch (error) {
    console.log(`${error.name}: ${error.message}`);
    process.exit(1);
  }
  console.log(`${vectors.made_by.split(",")[0]} vectors: ok`);
}
