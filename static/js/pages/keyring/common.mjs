// Shared by the keyring pages: page data, JSON posts, the unlock prompt and the in-memory key.
//
// Unlock design (docs/threat-model.md): an unlocked user key lives only in this page's memory,
// in OrgKeys' private fields. Nothing is written to localStorage, sessionStorage, IndexedDB or
// cookies; leaving the page, or idle_ms (page data) without activity, wipes it. Every page load that needs
// the key asks for the passphrase again (about a second of Argon2id).
import * as cmk from "opencmk-crypto";

let idleMs = 10 * 60 * 1000;
export const MIN_LENGTH = 14;
export const MIN_BITS = 60;

let unlocked = null;
let idleTimer = null;

export function pageData() {
  return JSON.parse(document.getElementById("keyring-data").textContent);
}

/** Loads libsodium and records the backend on <html> (tests read it: ACCEPTANCE B-05). */
export async function loadCrypto() {
  const sodium = await cmk.ready();
  document.documentElement.dataset.cryptoBackend = cmk.backend();
  return sodium;
}

export function status(text, kind = "info") {
  const el = document.getElementById("kr-status");
  el.textContent = text;
  el.dataset.kind = kind;
}

export async function postJson(url, body, csrfToken) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken },
    body: JSON.stringify(body),
  });
  if (response.redirected) {
    // The chokepoint asked for MFA or a fresh sign-in; nothing was stored.
    window.location.assign(response.url);
    throw new Error("Please confirm it is you, then try again.");
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(answer.error || `The broker answered ${response.status}.`);
  }
  return answer;
}

/** Rough strength estimate in bits: character pool size and distinct characters. */
export function passphraseBits(passphrase) {
  let pool = 0;
  if (/[a-z]/.test(passphrase)) pool += 26;
  if (/[A-Z]/.test(passphrase)) pool += 26;
  if (/[0-9]/.test(passphrase)) pool += 10;
  if (/[^A-Za-z0-9]/.test(passphrase)) pool += 33;
  const effective = Math.min(passphrase.length, new Set(passphrase).size * 2);
  return Math.round(effective * Math.log2(Math.max(pool, 2)));
}

export function passphraseProblem(passphrase, confirmation) {
  if (passphrase.length < MIN_LENGTH) return `Use at least ${MIN_LENGTH} characters.`;
  if (passphraseBits(passphrase) < MIN_BITS) return "Too guessable: add more unrelated words or characters.";
  if (passphrase !== confirmation) return "The two passphrases differ.";
  return null;
}

/** Wires the strength meter under #kr-new. */
export function watchStrength() {
  const input = document.getElementById("kr-new");
  const meter = document.getElementById("kr-strength");
  if (!input || !meter) return;
  input.addEventListener("input", () => {
    meter.value = Math.min(100, Math.round((passphraseBits(input.value) / 90) * 100));
  });
}

function askPassphrase() {
  const form = document.getElementById("kr-unlock");
  const input = document.getElementById("kr-unlock-passphrase");
  const cancel = document.getElementById("kr-unlock-cancel");
  form.hidden = false;
  input.focus();
  return new Promise((resolve, reject) => {
    const done = () => {
      form.removeEventListener("submit", onSubmit);
      cancel.removeEventListener("click", onCancel);
      input.value = "";
      form.hidden = true;
    };
    const onSubmit = (event) => {
      event.preventDefault();
      const value = input.value;
      done();
      resolve(value);
    };
    const onCancel = () => {
      done();
      reject(new Error("Unlock cancelled."));
    };
    form.addEventListener("submit", onSubmit);
    cancel.addEventListener("click", onCancel);
  });
}

export function lock() {
  if (unlocked !== null) {
    unlocked.wipe();
    unlocked = null;
  }
  clearTimeout(idleTimer);
}

function touch() {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(lock, idleMs);
}

for (const name of ["pointerdown", "keydown"]) {
  document.addEventListener(name, () => unlocked !== null && touch(), { passive: true });
}
window.addEventListener("pagehide", lock);

/** The user's key, asking for the passphrase if this page has not unlocked it yet. */
export async function userKeys(data) {
  if (unlocked !== null) {
    touch();
    return unlocked;
  }
  if (!data.user_key) throw new Error("Create your user key first.");
  if (Number.isSafeInteger(data.idle_ms) && data.idle_ms > 0) idleMs = data.idle_ms;
  await loadCrypto();
  const passphrase = await askPassphrase();
  status("Unlocking…");
  await new Promise((resolve) => setTimeout(resolve, 0)); // let the status paint before Argon2id
  let secret;
  try {
    secret = cmk.unwrapSecret(data.user_key.wrapped_secret, passphrase);
  } catch {
    throw new Error("Wrong key passphrase.");
  }
  const keys = cmk.OrgKeys.fromSecretBytes(secret);
  secret.fill(0);
  if (keys.kid !== data.user_key.kid) {
    keys.wipe();
    throw new Error("This user key does not match your registered public key.");
  }
  unlocked = keys;
  touch();
  return keys;
}

/** Opens this user's sealed copy of the organisation root key. Caller wipes the result. */
export async function rootKeys(data) {
  if (!data.share) throw new Error("You do not hold the root key.");
  const mine = await userKeys(data);
  let secret;
  try {
    secret = mine.openSealedBox(cmk.b64d(data.share.sealed_secret));
  } catch {
    throw new Error("Your copy of the root key does not open with your user key.");
  }
  const root = cmk.OrgKeys.fromSecretBytes(secret);
  secret.fill(0);
  if (root.kid !== data.root.kid) {
    root.wipe();
    throw new Error("The root key does not match the registered root public key.");
  }
  return root;
}

/** crypto_box_seal of an organisation key to a member's X25519 user key. */
export async function sealTo(orgKeys, encryptionPublicB64) {
  const sodium = await loadCrypto();
  const secret = orgKeys.toSecretBytes();
  try {
    return cmk.b64e(sodium.crypto_box_seal(secret, cmk.b64d(encryptionPublicB64)));
  } finally {
    secret.fill(0);
  }
}

/** Runs an action triggered by the user, reporting success or failure in #kr-status. */
export async function run(action, busyText) {
  try {
    status(busyText);
    const message = await action();
    status(message, "success");
  } catch (error) {
    status(error.message || String(error), "error");
  }
}

export { cmk };
