// The browser crypto API (static/js/crypto): formats, round trips and every rejection the
// Python verifier makes (tests/crypto/ holds the same cases for opencmk_crypto).
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as c from "../../static/js/crypto/index.mjs";
import { sodium } from "../../static/js/crypto/sodium.mjs";

const decoder = new TextDecoder();
const FAST = { opslimit: c.OPSLIMIT_INTERACTIVE, memlimit: c.MEMLIMIT_INTERACTIVE };
let vendor;
let otherVendor;
let tenantRoot;
let cluster;

before(async () => {
  await c.ready();
  [vendor, otherVendor, tenantRoot, cluster] = [0, 1, 2, 3].map(() => c.OrgKeys.generate());
});

function tenantRootPayload() {
  return {
    type: "tenant-root",
    vendor_id: "acme",
    issued_at: c.issuedAtNow(),
    tenant_id: "tenant-1",
    signing_key: c.b64e(tenantRoot.signingPublic),
    encryption_key: c.b64e(tenantRoot.encryptionPublic),
  };
}

function flip(b64, index) {
  const raw = c.b64d(b64);
  raw[index] ^= 1;
  return c.b64e(raw);
}

describe("loading", () => {
  test("libsodium initialised its WebAssembly backend", () => {
    assert.equal(c.backend(), "wasm");
    assert.match(c.sodiumVersion(), /^1\.0\.\d+$/);
  });

  test("libsodium carries the Dec-2025 crypto_core_ed25519_is_valid_point fix (CVE-2025-69277, B-06)", () => {
    const [major, minor, patch] = c.sodiumVersion().split(".").map(Number);
    assert.ok(major > 1 || minor > 0 || patch >= 22, c.sodiumVersion());
  });
});

describe("encoding and keys", () => {
  test("b64 round trips with padding and rejects non-canonical input", () => {
    for (let n = 0; n < 70; n += 1) {
      const data = Uint8Array.from({ length: n }, (_, i) => i);
      assert.deepEqual(c.b64d(c.b64e(data)), data);
    }
    assert.equal(c.b64e(new TextEncoder().encode("a")), "YQ==");
    for (const bad of ["YQ", "YQ=", "Y Q==", "YQ==\n", "YR==", "_-8=", "YQ==YQ==", "ä", "Zm9v!"]) {
      assert.throws(() => c.b64d(bad), c.CryptoError, bad);
    }
  });

  test("kid is BLAKE2b-128 hex and fingerprints group it in fours", () => {
    const pub = Uint8Array.from({ length: 32 }, (_, i) => i);
    // Same value as Python: hashlib.blake2b(bytes(range(32)), digest_size=16).hexdigest()
    assert.equal(c.kid(pub), sodium().to_hex(sodium().crypto_generichash(16, pub, null)));
    assert.match(c.kid(pub), /^[0-9a-f]{32}$/);
    assert.equal(c.fingerprint("0123456789abcdef0123456789abcdef"), "0123 4567 89ab cdef 0123 4567 89ab cdef");
    assert.throws(() => c.kid(new Uint8Array(31)), c.CryptoError);
    assert.throws(() => c.fingerprint("0123456789ABCDEF0123456789ABCDEF"), c.CryptoError);
  });

  test("OrgKeys round trip through 64 secret bytes and never serialise private parts", () => {
    const secret = vendor.toSecretBytes();
    assert.equal(secret.length, 64);
    const again = c.OrgKeys.fromSecretBytes(secret);
    assert.deepEqual(again.signingPublic, vendor.signingPublic);
    assert.deepEqual(again.encryptionPublic, vendor.encryptionPublic);
    const shown = JSON.stringify(vendor);
    assert.equal(shown, JSON.stringify({ kid: vendor.kid }));
    assert.ok(!shown.includes(c.b64e(secret).slice(0, 12)));
  });

  test("wipe() zeroes the private parts", () => {
    const keys = c.OrgKeys.generate();
    keys.wipe();
    assert.deepEqual(keys.toSecretBytes(), new Uint8Array(64));
  });
});

describe("statements", () => {
  test("a signed statement verifies and returns its payload", () => {
    const payload = tenantRootPayload();
    const statement = c.signStatement("tenant-root", payload, vendor);
    assert.deepEqual(Object.keys(statement).sort(), ["kid", "payload", "sig", "type"]);
    assert.equal(statement.kid, vendor.kid);
    const got = c.verifyStatement(statement, { expectedType: "tenant-root", publicKey: vendor.signingPublic });
    assert.deepEqual(got, payload);
  });

  test("the signature covers 'OpenCMK/1/' + type + newline + payload bytes", () => {
    const statement = c.signStatement("tenant-root", tenantRootPayload(), vendor);
    const message = new Uint8Array([
      ...new TextEncoder().encode("OpenCMK/1/tenant-root\n"),
      ...c.b64d(statement.payload),
    ]);
    assert.ok(sodium().crypto_sign_verify_detached(c.b64d(statement.sig), message, vendor.signingPublic));
  });

  test("every single byte flip in payload or sig is rejected", () => {
    const statement = c.signStatement("tenant-root", tenantRootPayload(), vendor);
    for (const field of ["payload", "sig"]) {
      const length = c.b64d(statement[field]).length;
      for (let i = 0; i < length; i += 1) {
        const changed = { ...statement, [field]: flip(statement[field], i) };
        assert.throws(
          () => c.verifyStatement(changed, { expectedType: "tenant-root", publicKey: vendor.signingPublic }),
          c.StatementError,
          `${field} byte ${i}`,
        );
      }
    }
  });

  test("changed, extra or missing fields are rejected", () => {
    const statement = c.signStatement("tenant-root", tenantRootPayload(), vendor);
    const variants = [
      { ...statement, type: "tenant-policy" },
      { ...statement, type: "tenant-root " },
      { ...statement, kid: "0".repeat(32) },
      { ...statement, kid: null },
      { ...statement, sig: "" },
      { ...statement, extra: "x" },
      { type: statement.type, payload: statement.payload, sig: statement.sig },
    ];
    for (const changed of variants) {
      assert.throws(
        () => c.verifyStatement(changed, { expectedType: "tenant-root", publicKey: vendor.signingPublic }),
        c.StatementError,
      );
    }
  });

  test("a tenant root signed by another vendor's root is rejected, even relabelled", () => {
    const statement = c.signStatement("tenant-root", tenantRootPayload(), otherVendor);
    const opts = { expectedType: "tenant-root", publicKey: vendor.signingPublic };
    assert.throws(() => c.verifyStatement(statement, opts), c.StatementError);
    assert.throws(() => c.verifyStatement({ ...statement, kid: vendor.kid }, opts), /signature/);
  });

  test("a statement of one type cannot be presented as another", () => {
    const payload = { type: "proxy-cluster-revocation", vendor_id: "acme", issued_at: c.issuedAtNow(), cluster_id: "c1" };
    const statement = c.signStatement("proxy-cluster-revocation", payload, vendor);
    const opts = { expectedType: "proxy-cluster", publicKey: vendor.signingPublic };
    assert.throws(() => c.verifyStatement(statement, opts), c.StatementError);
    assert.throws(() => c.verifyStatement({ ...statement, type: "proxy-cluster" }, opts), /signature/);
  });

  test("the signer checks the common payload fields", () => {
    for (const change of [{ type: "tenant-policy" }, { vendor_id: "" }, { issued_at: "yesterday" }, { issued_at: "2026-02-30T00:00:00Z" }, { issued_at: "2026-01-01T00:00:00+02:00" }]) {
      assert.throws(() => c.signStatement("tenant-root", { ...tenantRootPayload(), ...change }, vendor), c.StatementError);
    }
    assert.throws(() => c.signStatement("tenant-root", { ...tenantRootPayload(), ratio: 0.5 }, vendor), c.StatementError);
  });

  test("signed but malformed payloads are rejected (duplicate keys, bad UTF-8, not UTC)", () => {
    const bodies = [
      '{"type":"tenant-root","type":"tenant-root","vendor_id":"a","issued_at":"2026-01-01T00:00:00Z"}',
      '{"type":"tenant-root","vendor_id":"a","issued_at":"2026-01-01T00:00:00Z","x":{"k":1,"\\u006b":2}}',
      '["tenant-root"]',
      '{"type":"tenant-root","vendor_id":"a","issued_at":"2026-01-01 00:00:00"}',
      '{"type":"tenant-root","vendor_id":"a","issued_at":"2026-01-01T00:00:00+02:00"}',
      '{"type":"tenant-root","vendor_id":"","issued_at":"2026-01-01T00:00:00Z"}',
    ].map((text) => new TextEncoder().encode(text));
    bodies.push(new Uint8Array([0xff, 0xfe]));
    for (const body of bodies) {
      const sig = vendor.signDetached(c.signedBytes("tenant-root", body));
      const statement = { type: "tenant-root", kid: vendor.kid, payload: c.b64e(body), sig: c.b64e(sig) };
      assert.throws(
        () => c.verifyStatement(statement, { expectedType: "tenant-root", publicKey: vendor.signingPublic }),
        c.StatementError,
        new TextDecoder().decode(body),
      );
    }
    // Keys that merely look alike, and braces inside strings, are fine.
    const ok = new TextEncoder().encode('{"type":"tenant-root","vendor_id":"a}\\",\\"b","issued_at":"2026-01-01T00:00:00Z","x":[{"k":1},{"k":2}]}');
    const sig = vendor.signDetached(c.signedBytes("tenant-root", ok));
    const statement = { type: "tenant-root", kid: vendor.kid, payload: c.b64e(ok), sig: c.b64e(sig) };
    assert.equal(c.verifyStatement(statement, { expectedType: "tenant-root", publicKey: vendor.signingPublic }).vendor_id, 'a}","b');
  });

  test("the unverified payload decodes for display even with a bad signature", () => {
    const payload = tenantRootPayload();
    const statement = c.signStatement("tenant-root", payload, vendor);
    assert.deepEqual(c.statementPayloadUnverified({ ...statement, sig: flip(statement.sig, 0) }), payload);
  });
});

describe("sealed configs", () => {
  const CONFIG = '{"provider":"vault-transit","token":"s.canary"}';
  const seal = (overrides = {}) =>
    c.sealConfig({
      kind: "kms",
      tenantId: "tenant-1",
      configId: 17,
      plaintext: CONFIG,
      recipients: [tenantRoot.encryptionPublic, cluster.encryptionPublic],
      ...overrides,
    });

  test("has the DESIGN.md §4 shape and every recipient opens it", () => {
    const sealed = seal();
    assert.deepEqual(Object.keys(sealed).sort(), ["ciphertext", "config_id", "kind", "nonce", "recipients", "tenant_id", "v"]);
    assert.equal(c.b64d(sealed.nonce).length, 24);
    assert.equal(sealed.recipients[1].kid, c.kid(cluster.encryptionPublic));
    assert.ok(!JSON.stringify(sealed).includes("canary"));
    for (const keys of [tenantRoot, cluster]) {
      assert.equal(decoder.decode(c.openConfig(sealed, { privateKey: keys })), CONFIG);
    }
    const raw = cluster.toSecretBytes().slice(32);
    assert.equal(decoder.decode(c.openConfig(sealed, { privateKey: raw, tenantId: "tenant-1", configId: 17, kind: "kms" })), CONFIG);
  });

  test("an unlisted key cannot open it", () => {
    assert.throws(() => c.openConfig(seal(), { privateKey: c.OrgKeys.generate() }), /not addressed/);
  });

  test("tenant, config or kind swapped in the blob fails the AD; asked-for mismatches are refused", () => {
    const sealed = seal();
    for (const [field, value] of [["tenant_id", "tenant-2"], ["config_id", 18], ["kind", "logging"]]) {
      assert.throws(() => c.openConfig({ ...sealed, [field]: value }, { privateKey: cluster }), /does not decrypt/);
    }
    assert.throws(() => c.openConfig(sealed, { privateKey: cluster, tenantId: "tenant-2" }), /expected/);
    assert.throws(() => c.openConfig(sealed, { privateKey: cluster, configId: 18 }), /expected/);
    assert.throws(() => c.openConfig(sealed, { privateKey: cluster, kind: "logging" }), /expected/);
  });

  test("the AD is the DESIGN.md string", () => {
    assert.equal(decoder.decode(c.associatedData("tenant-1", 17, "kms")), "OpenCMK/1/sealed-config\ntenant-1\n17\nkms");
  });

  test("content digest is SHA-256 of nonce || ciphertext and add_recipient keeps it", () => {
    const sealed = seal();
    const expected = sodium().crypto_hash_sha256(new Uint8Array([...c.b64d(sealed.nonce), ...c.b64d(sealed.ciphertext)]));
    assert.equal(c.contentDigest(sealed), c.b64e(expected));
    const newcomer = c.OrgKeys.generate();
    const before = structuredClone(sealed);
    const extended = c.addRecipient(sealed, { privateKey: tenantRoot, newPublicKey: newcomer.encryptionPublic });
    assert.deepEqual(sealed, before);
    assert.equal(c.contentDigest(extended), c.contentDigest(sealed));
    assert.equal(extended.recipients.length, 3);
    assert.equal(decoder.decode(c.openConfig(extended, { privateKey: newcomer })), CONFIG);
    assert.deepEqual(c.addRecipient(extended, { privateKey: tenantRoot, newPublicKey: newcomer.encryptionPublic }), extended);
    assert.throws(() => c.addRecipient(sealed, { privateKey: c.OrgKeys.generate(), newPublicKey: newcomer.encryptionPublic }), c.SealError);
  });

  test("flipped nonce or ciphertext bytes are refused", () => {
    const sealed = seal();
    for (const field of ["nonce", "ciphertext"]) {
      for (let i = 0; i < c.b64d(sealed[field]).length; i += 1) {
        assert.throws(() => c.openConfig({ ...sealed, [field]: flip(sealed[field], i) }, { privateKey: cluster }), c.SealError);
      }
    }
  });

  test("structure validation rejects malformed blobs and bad inputs", () => {
    const sealed = seal();
    const changes = [
      { v: 2 }, { v: true }, { kind: "other" }, { tenant_id: "" }, { config_id: 0 }, { config_id: 2 ** 31 },
      { config_id: "17" }, { config_id: 1.5 }, { nonce: c.b64e(new Uint8Array(12)) }, { ciphertext: c.b64e(new Uint8Array(15)) },
      { recipients: [] }, { extra: 1 }, { nonce: "!!" },
      { recipients: [{ kid: "ZZ", sealed_key: c.b64e(new Uint8Array(80)) }] },
      { recipients: [{ kid: "0".repeat(32), sealed_key: c.b64e(new Uint8Array(79)) }] },
      { recipients: [sealed.recipients[0], sealed.recipients[0]] },
    ];
    for (const change of changes) {
      assert.throws(() => c.validateSealedStructure({ ...sealed, ...change }), c.SealError, JSON.stringify(change));
    }
    for (const change of [{ recipients: [] }, { recipients: [new Uint8Array(31)] }, { recipients: [cluster.encryptionPublic, cluster.encryptionPublic] }, { kind: "KMS" }, { configId: -1 }, { plaintext: new Uint8Array(64 * 1024 + 1) }]) {
      assert.throws(() => seal(change), c.SealError);
    }
  });
});

describe("passphrase blobs", () => {
  test("wrap/unwrap round trip with the documented blob shape", () => {
    const secret = vendor.toSecretBytes();
    const blob = c.wrapSecret(secret, "correct horse battery staple", FAST);
    assert.deepEqual(Object.keys(blob).sort(), ["alg", "ciphertext", "memlimit", "nonce", "opslimit", "salt", "v"]);
    assert.equal(blob.alg, "argon2id13+xsalsa20poly1305");
    assert.equal(c.b64d(blob.salt).length, 16);
    assert.deepEqual(c.unwrapSecret(blob, "correct horse battery staple"), secret);
    assert.throws(() => c.unwrapSecret(blob, "correct horse battery stapler"), c.PassphraseError);
    assert.deepEqual(c.unwrapSecret(c.wrapSecret(secret, "caf\u00e9", FAST), "cafe\u0301"), secret);
  });

  test("defaults are MODERATE", () => {
    const blob = c.wrapSecret(new Uint8Array([1]), "pw");
    assert.deepEqual([blob.opslimit, blob.memlimit], [c.OPSLIMIT_MODERATE, c.MEMLIMIT_MODERATE]);
    assert.deepEqual(c.unwrapSecret(blob, "pw"), new Uint8Array([1]));
  });

  test("hostile or malformed blobs are refused before deriving", () => {
    const blob = c.wrapSecret(new Uint8Array([1, 2, 3]), "pw", FAST);
    for (const change of [{ v: 2 }, { alg: "x" }, { opslimit: 1 }, { memlimit: 8192 }, { memlimit: 2 ** 40 }, { opslimit: 99 }, { salt: c.b64e(new Uint8Array(8)) }, { extra: 1 }, { ciphertext: c.b64e(new Uint8Array(16)) }]) {
      assert.throws(() => c.unwrapSecret({ ...blob, ...change }, "pw"), c.PassphraseError, JSON.stringify(change));
    }
    assert.throws(() => c.wrapSecret(new Uint8Array([1]), "", FAST), c.PassphraseError);
  });
});
