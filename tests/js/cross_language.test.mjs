// Vectors made by Python's opencmk_crypto (tests/vectors/crypto/python_made.json, regenerate
// with tests/crypto/make_vectors.py): the browser code verifies and opens them. The JS-made
// file is checked too, so a format change on this side shows up as a stale vector here.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SealError } from "../../static/js/crypto/index.mjs";
import { checkVectors } from "./check_vectors.mjs";
import { loadVector } from "./helpers.mjs";
import { makeVectors } from "./make_vectors.mjs";

test("browser code verifies and opens the committed Python vectors", async () => {
  const vectors = loadVector("python_made.json");
  assert.match(vectors.made_by, /^python/);
  await checkVectors(vectors);
});

test("browser code accepts its own committed vectors", async () => {
  await checkVectors(loadVector("js_made.json"));
});

test("freshly made vectors pass the same checks", async () => {
  await checkVectors(await makeVectors());
});

test("a Python sealed config relabelled for another tenant is rejected", async () => {
  const vectors = loadVector("python_made.json");
  // Header and expectation both say "tenant-evil", the digest still matches: only the AD can tell.
  vectors.sealed[0].sealed.tenant_id = "tenant-evil";
  vectors.sealed[0].tenant_id = "tenant-evil";
  await assert.rejects(checkVectors(vectors), SealError);
});
