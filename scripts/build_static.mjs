#!/usr/bin/env node
// Builds the same-origin browser assets into static/vendor/ (generated, not committed):
//   libsodium-sumo.mjs    libsodium-wrappers-sumo as one ES module, with a WebAssembly probe
//   opencmk-crypto.mjs    static/js/crypto/index.mjs and libsodium in one ES module (one SRI hash)
//   asset-manifest.json   SHA-384 (SRI form) of every file above, for publication (B-07)
// The output depends only on package-lock.json and the sources: no timestamps, no absolute
// paths, so two clean builds are byte-identical. Usage: node scripts/build_static.mjs [--outdir DIR]
import { createHash } from "node:crypto";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const VIRTUAL = "opencmk-virtual";

// Runs before libsodium's module body (ES modules evaluate imports in order), so it sees the
// WebAssembly.instantiate call libsodium makes while initialising; B-05 asks us to record
// whether the WebAssembly backend really ran.
const PROBE = `
export const wasmProbe = { instantiated: false, memory: false, error: null };
const wa = globalThis.WebAssembly;
if (wa && typeof wa.instantiate === "function") {
  const original = wa.instantiate;
  wa.instantiate = function (...args) {
    const pending = original.apply(this, args);
    pending.then(
      (result) => {
        const instance = result instanceof wa.Instance ? result : result.instance;
        wasmProbe.instantiated = true;
        wasmProbe.memory = Object.values(instance.exports).some((e) => e instanceof wa.Memory);
      },
      (error) => { wasmProbe.error = String(error); },
    );
    return pending;
  };
  wasmProbe.restore = () => { wa.instantiate = original; };
}
`;

const ENTRY = `
import { wasmProbe } from "${VIRTUAL}:probe";
import sodium from "libsodium-wrappers-sumo";
export const ready = sodium.ready.finally(() => wasmProbe.restore?.());
export { wasmProbe };
export default sodium;
`;

const virtualModules = {
  name: VIRTUAL,
  setup(build) {
    build.onResolve({ filter: new RegExp(`^${VIRTUAL}:`) }, (args) => ({
      path: args.path.slice(VIRTUAL.length + 1),
      namespace: VIRTUAL,
    }));
    build.onLoad({ filter: /.*/, namespace: VIRTUAL }, (args) => ({
      contents: args.path === "probe" ? PROBE : ENTRY,
      resolveDir: ROOT,
      loader: "js",
    }));
  },
};

const common = {
  bundle: true,
  format: "esm",
  platform: "neutral",
  mainFields: ["module", "main"],
  conditions: ["import"],
  target: "es2022",
  minify: true,
  legalComments: "eof",
  charset: "utf8",
  logLevel: "warning",
  absWorkingDir: ROOT,
  plugins: [virtualModules],
};

async function buildVendor(outdir) {
  await esbuild.build({
    ...common,
    entryPoints: { "libsodium-sumo": `${VIRTUAL}:entry` },
    outdir,
    outExtension: { ".js": ".mjs" },
  });
  // The crypto API bundled with libsodium: pages load one file with one integrity hash.
  await esbuild.build({
    ...common,
    entryPoints: { "opencmk-crypto": "static/js/crypto/index.mjs" },
    outdir,
    outExtension: { ".js": ".mjs" },
    plugins: [
      virtualModules,
      {
        name: "vendor-to-virtual",
        setup(build) {
          build.onResolve({ filter: /vendor\/libsodium-sumo\.mjs$/ }, () => ({
            path: "entry",
            namespace: VIRTUAL,
          }));
        },
      },
    ],
  });
}

async function assertNoJsFallback(outdir) {
  // The ESM libsodium build is WebAssembly-only; the UMD build carries an asm.js "backup
  // module". Fail the build if a fallback ever sneaks in (B-05).
  const text = await readFile(path.join(outdir, "libsodium-sumo.mjs"), "utf8");
  if (text.includes("useBackupModule")) {
    throw new Error("bundled libsodium contains the asm.js fallback; expected the WASM-only ESM build");
  }
}

async function writeManifest(outdir) {
  const files = (await readdir(outdir)).filter((f) => f.endsWith(".mjs")).sort();
  const manifest = { algorithm: "sha384", files: {} };
  for (const file of files) {
    const digest = createHash("sha384").update(await readFile(path.join(outdir, file))).digest("base64");
    manifest.files[file] = `sha384-${digest}`;
  }
  await writeFile(path.join(outdir, "asset-manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

function parseOutdir(argv) {
  const at = argv.indexOf("--outdir");
  return path.resolve(ROOT, at >= 0 ? argv[at + 1] : "static/vendor");
}

const outdir = parseOutdir(process.argv.slice(2));
await mkdir(outdir, { recursive: true });
await buildVendor(outdir);
await assertNoJsFallback(outdir);
const manifest = await writeManifest(outdir);
for (const [file, integrity] of Object.entries(manifest.files)) {
  console.log(`${path.relative(ROOT, path.join(outdir, file))}  ${integrity}`);
}
