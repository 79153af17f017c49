// Wycheproof Ed25519, X25519 and XChaCha20-Poly1305 against the bundled libsodium.js, through
// the same functions static/js/crypto uses. What the API cannot express (docs/crypto.md):
// libsodium refuses all-zero X25519 outputs (low-order points), so those cases must throw; the
// AEAD takes only 24-byte nonces, so other nonce sizes must throw.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { ready, sodium } from "../../static/js/crypto/sodium.mjs";
import { hex, wycheproofCases } from "./helpers.mjs";

let s;
before(async () => {
  await ready();
  s = sodium();
});

function each(cases, check) {
  assert.ok(cases.length > 0);
  for (const { id, test } of cases) {
    try {
      check(test);
    } catch (error) {
      error.message = `${id} (${test.comment}): ${error.message}`;
      throw error;
    }
  }
}

describe("Ed25519 (crypto_sign_verify_detached)", () => {
  const verify = (group, test) => {
    try {
      return s.crypto_sign_verify_detached(hex(test.sig), hex(test.msg), hex(group.publicKey.pk));
    } catch {
      return false; // wrong-length signatures throw instead of returning false
    }
  };
  for (const result of ["valid", "invalid"]) {
    const cases = wycheproofCases("ed25519_test.json", (g, t) => t.result === result);
    test(`${cases.length} ${result} cases are ${result === "valid" ? "accepted" : "rejected"}`, () => {
      for (const { id, group, test: t } of cases) {
        assert.equal(verify(group, t), result === "valid", `${id}: ${t.comment}`);
      }
    });
  }
});

describe("X25519 (crypto_scalarmult)", () => {
  const zero = (t) => /^0+$/.test(t.shared);
  const nonZero = wycheproofCases("x25519_test.json", (g, t) => !zero(t));
  const allZero = wycheproofCases("x25519_test.json", (g, t) => zero(t));
  test(`${nonZero.length} valid and acceptable cases give the expected shared secret`, () => {
    each(nonZero, (t) => {
      assert.equal(s.to_hex(s.crypto_scalarmult(hex(t.private), hex(t.public))), t.shared);
    });
  });
  test(`${allZero.length} low-order cases are refused (libsodium never returns all-zero)`, () => {
    each(allZero, (t) => {
      assert.throws(() => s.crypto_scalarmult(hex(t.private), hex(t.public)));
    });
  });
});

describe("XChaCha20-Poly1305-IETF (crypto_aead_xchacha20poly1305_ietf_*)", () => {
  const valid = wycheproofCases("xchacha20_poly1305_test.json", (g, t) => t.result === "valid");
  const invalid = wycheproofCases("xchacha20_poly1305_test.json", (g, t) => t.result === "invalid");
  test(`${valid.length} valid cases encrypt to the expected bytes and decrypt back`, () => {
    each(valid, (t) => {
      const sealed = s.to_hex(hex(t.ct)) + t.tag;
      const ct = s.crypto_aead_xchacha20poly1305_ietf_encrypt(hex(t.msg), hex(t.aad), null, hex(t.iv), hex(t.key));
      assert.equal(s.to_hex(ct), sealed);
      const pt = s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, hex(sealed), hex(t.aad), hex(t.iv), hex(t.key));
      assert.equal(s.to_hex(pt), t.msg);
    });
  });
  test(`${invalid.length} invalid cases are refused`, () => {
    each(invalid, (t) => {
      assert.throws(() =>
        s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, hex(t.ct + t.tag), hex(t.aad), hex(t.iv), hex(t.key)),
      );
    });
  });
});
