#!/usr/bin/env node
// Produces cross-language vectors with the browser code (static/js/crypto) for the Python side
// to verify and open. Inputs: tests/vectors/crypto/vector_plan.json.
// Usage: node tests/js/make_vectors.mjs OUT.json
// Committed output: tests/vectors/crypto/js_made.json (regenerate with `npm run vectors`).
import { readFileSync, writeFileSync } from "node:fs";
import * as c from "../../static/js/crypto/index.mjs";
import { sodium } from "../../static/js/crypto/sodium.mjs";

const PLAN = new URL("../vectors/crypto/vector_plan.json", import.meta.url);
const encoder = new TextEncoder();

/** Test keys: BLAKE2b-512(label) = Ed25519 seed || X25519 secret. */
export function keysFromLabel(label) {
  return c.OrgKeys.fromSecretBytes(sodium().crypto_generichash(64, encoder.encode(label), null));
}

function describe(keys) {
  return {
    kid: keys.kid,
    encryption_kid: keys.encryptionKid,
    signing_public: c.b64e(keys.signingPublic),
    encryption_public: c.b64e(keys.encryptionPublic),
  };
}

export async function makeVectors() {
  await c.ready();
  const plan = JSON.parse(readFileSync(PLAN, "utf8"));
  const signer = keysFromLabel(plan.signer_label);
  const recipient = keysFromLabel(plan.recipient_label);
  const sealed = plan.sealed.map((item) => {
    const blob = c.sealConfig({
      kind: item.kind,
      tenantId: item.tenant_id,
      configId: item.config_id,
      plaintext: encoder.encode(item.plaintext),
      recipients: [recipient.encryptionPublic],
    });
    return { ...item, sealed: blob, content_digest: c.contentDigest(blob) };
  });
  return {
    made_by: `javascript, libsodium ${c.sodiumVersion()}`,
    signer_label: plan.signer_label,
    recipient_label: plan.recipient_label,
    signer: describe(signer),
    recipient: describe(recipient),
    canonical_json: plan.canonical_json.map((value) => ({
      value,
      bytes: c.b64e(c.canonicalJson(value)),
    })),
    statements: plan.statements.map((payload) => ({
      payload,
      statement: c.signStatement(payload.type, payload, signer),
    })),
    sealed,
    passphrase: plan.passphrase.map((item) => ({
      ...item,
      blob: c.wrapSecret(c.b64d(item.secret), item.passphrase, {
        opslimit: c.OPSLIMIT_INTERACTIVE,
        memlimit: c.MEMLIMIT_INTERACTIVE,
      }),
    })),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2];
  if (!out) {
    console.error("usage: node tests/js/make_vectors.mjs OUT.json");
    process.exit(2);
  }
  writeFileSync(out, `${JSON.stringify(await makeVectors(), null, 2)}\n`);
}
