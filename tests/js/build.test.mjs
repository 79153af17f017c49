// The static bundle (scripts/build_static.mjs): reproducible, WASM-only, manifest hashes match,
// and the crypto modules use no innerHTML/eval (ACCEPTANCE B-05, B-07, B-10).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { REPO } from "./helpers.mjs";

const root = fileURLToPath(REPO);
const scratch = mkdtempSync(path.join(tmpdir(), "opencmk-build-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

function build(name) {
  const outdir = path.join(scratch, name);
  execFileSync(process.execPath, ["scripts/build_static.mjs", "--outdir", outdir], { cwd: root, stdio: "pipe" });
  return outdir;
}

function files(dir) {
  return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(path.join(dir, f))]));
}

test("two builds are byte-identical and the manifest holds their SHA-384 hashes", () => {
  const first = files(build("one"));
  const second = files(build("two"));
  assert.deepEqual(Object.keys(first), ["asset-manifest.json", "libsodium-sumo.mjs", "opencmk-crypto.mjs"]);
  for (const name of Object.keys(first)) {
    assert.ok(first[name].equals(second[name]), `${name} differs between builds`);
  }
  const manifest = JSON.parse(first["asset-manifest.json"]);
  for (const name of ["libsodium-sumo.mjs", "opencmk-crypto.mjs"]) {
    const digest = createHash("sha384").update(first[name]).digest("base64");
    assert.equal(manifest.files[name], `sha384-${digest}`);
  }
});

test("the bundle carries no asm.js fallback and no build-machine paths", () => {
  const dir = path.join(scratch, "one");
  for (const name of ["libsodium-sumo.mjs", "opencmk-crypto.mjs"]) {
    const text = readFileSync(path.join(dir, name), "utf8");
    assert.ok(!text.includes("useBackupModule"), `${name} has the asm.js backup module`);
    assert.ok(!text.includes(root), `${name} mentions ${root}`);
  }
});

test("the bundled API initialises WebAssembly and matches the module API", async () => {
  const bundled = await import(path.join(scratch, "one", "opencmk-crypto.mjs"));
  await bundled.ready();
  assert.equal(bundled.backend(), "wasm");
  const modules = await import("../../static/js/crypto/index.mjs");
  assert.deepEqual(Object.keys(bundled).sort(), Object.keys(modules).sort());
});

test("crypto modules use no innerHTML, eval, Function or document.write", () => {
  const dir = path.join(root, "static/js/crypto");
  for (const name of readdirSync(dir).filter((f) => f.endsWith(".mjs"))) {
    const text = readFileSync(path.join(dir, name), "utf8");
    assert.doesNotMatch(text, /innerHTML|outerHTML|insertAdjacentHTML|\beval\s*\(|new Function|document\.write/, name);
  }
});

test("package.json pins exact versions and the lockfile agrees", () => {
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
  const lock = JSON.parse(readFileSync(path.join(root, "package-lock.json"), "utf8"));
  const pinned = { ...pkg.dependencies, ...pkg.devDependencies };
  assert.ok(pinned["libsodium-wrappers-sumo"]);
  for (const [name, version] of Object.entries(pinned)) {
    assert.match(version, /^\d+\.\d+\.\d+$/, `${name} is not pinned exactly`);
    assert.equal(lock.packages[`node_modules/${name}`].version, version, name);
    assert.match(lock.packages[`node_modules/${name}`].integrity, /^sha512-/);
  }
  // The wrapper's own dependency must resolve to the version we pin directly.
  assert.equal(lock.packages["node_modules/libsodium-sumo"].version, pinned["libsodium-sumo"]);
});
