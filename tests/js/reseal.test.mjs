// resealConfig: what removing a proxy cluster does to every blob (docs/kms-configs.md "Clusters").
// A removed recipient must not open the new blob by any route: not through a recipient entry,
// and not with the content key it could unwrap from the old blob.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as c from "../../static/js/crypto/index.mjs";
import { sodium } from "../../static/js/crypto/sodium.mjs";

const decoder = new TextDecoder();
const CONFIG = '{"provider":"vault-transit","token":"s.canary-reseal"}';
let root;
let east;
let west;

before(async () => {
  await c.ready();
  [root, east, west] = [0, 1, 2].map(() => c.OrgKeys.generate());
});

function sealed(kind = "kms") {
  return c.sealConfig({
    kind,
    tenantId: "tenant-1",
    configId: 4242,
    plaintext: CONFIG,
    recipients: [root.encryptionPublic, east.encryptionPublic, west.encryptionPublic],
  });
}

function withoutWest(blob) {
  return c.resealConfig(blob, { privateKey: root, recipients: [root.encryptionPublic, east.encryptionPublic] });
}

/** The CEK west could have unwrapped from a blob it once received. */
function westCek(blob) {
  const entry = blob.recipients.find((r) => r.kid === c.kid(west.encryptionPublic));
  return west.openSealedBox(c.b64d(entry.sealed_key));
}

describe("resealConfig", () => {
  test("keeps kind, tenant, config id and content under a fresh nonce, CEK and digest", () => {
    for (const kind of ["kms", "logging"]) {
      const old = sealed(kind);
      const copy = structuredClone(old);
      const fresh = withoutWest(old);
      assert.deepEqual(old, copy); // the input is not modified
      assert.equal(fresh.kind, kind);
      assert.equal(fresh.tenant_id, "tenant-1");
      assert.equal(fresh.config_id, 4242);
      assert.notEqual(fresh.nonce, old.nonce);
      assert.notEqual(c.contentDigest(fresh), c.contentDigest(old));
      assert.deepEqual(fresh.recipients.map((r) => r.kid), [c.kid(root.encryptionPublic), c.kid(east.encryptionPublic)]);
      for (const keys of [root, east]) {
        assert.equal(decoder.decode(c.openConfig(fresh, { privateKey: keys, tenantId: "tenant-1", configId: 4242, kind })), CONFIG);
      }
    }
  });

  test("the removed recipient cannot open the new blob, not even with the CEK it held", () => {
    const old = sealed();
    const fresh = withoutWest(old);
    assert.throws(() => c.openConfig(fresh, { privateKey: west }), /not addressed to this key/);
    // Grafting west's old entry onto the new blob: its CEK does not decrypt the new ciphertext.
    const oldEntry = old.recipients.find((r) => r.kid === c.kid(west.encryptionPublic));
    const grafted = { ...fresh, recipients: [...fresh.recipients, oldEntry] };
    assert.throws(() => c.openConfig(grafted, { privateKey: west }), /does not decrypt/);
    const cek = westCek(old);
    const ad = c.associatedData("tenant-1", 4242, "kms");
    assert.throws(() =>
      sodium().crypto_aead_xchacha20poly1305_ietf_decrypt(null, c.b64d(fresh.ciphertext), ad, c.b64d(fresh.nonce), cek),
    );
  });

  test("two re-seals of the same blob never share nonce or ciphertext", () => {
    const old = sealed();
    const [a, b] = [withoutWest(old), withoutWest(old)];
    assert.notEqual(a.nonce, b.nonce);
    assert.notEqual(a.ciphertext, b.ciphertext);
  });

  test("only a recipient can re-seal, and only an intact blob to distinct recipients", () => {
    const old = sealed();
    const stranger = c.OrgKeys.generate();
    assert.throws(() => c.resealConfig(old, { privateKey: stranger, recipients: [root.encryptionPublic] }), c.SealError);
    const flipped = c.b64d(old.ciphertext);
    flipped[0] ^= 1;
    const tampered = { ...old, ciphertext: c.b64e(flipped) };
    assert.throws(() => c.resealConfig(tampered, { privateKey: root, recipients: [root.encryptionPublic] }), /does not decrypt/);
    assert.throws(
      () => c.resealConfig(old, { privateKey: root, recipients: [east.encryptionPublic, east.encryptionPublic] }),
      /listed twice/,
    );
    assert.throws(() => c.resealConfig(old, { privateKey: root, recipients: [] }), c.SealError);
  });
});
