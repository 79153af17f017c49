// Loads libsodium (the same-origin bundle built by scripts/build_static.mjs) and records which
// backend initialised (ACCEPTANCE B-05): the bundled ESM build has no asm.js fallback, and the
// probe in the bundle sees libsodium's own WebAssembly.instantiate call.
import libsodium, { ready as libsodiumReady, wasmProbe } from "../../vendor/libsodium-sumo.mjs";
import { CryptoError } from "./errors.mjs";

let loaded = null;
let backendName = null;

/** Resolves to the libsodium object once WebAssembly has initialised. */
export async function ready() {
  await libsodiumReady;
  if (!wasmProbe.instantiated || !wasmProbe.memory) {
    backendName = "unknown";
    throw new CryptoError("libsodium did not initialise its WebAssembly backend");
  }
  backendName = "wasm";
  loaded = libsodium;
  return libsodium;
}

/** "wasm" after ready() succeeded, "unknown" if it failed, null before. */
export function backend() {
  return backendName;
}

/** The libsodium version string (e.g. "1.0.22"). */
export function sodiumVersion() {
  return sodium().sodium_version_string();
}

/** The initialised libsodium object; throws if ready() has not resolved yet. */
export function sodium() {
  if (loaded === null) {
    throw new CryptoError("call and await ready() before using the crypto API");
  }
  return loaded;
}
