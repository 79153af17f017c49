// Your user key: create it (choose a key passphrase) or change its passphrase.
import { cmk, loadCrypto, passphraseProblem, postJson, run, watchStrength, pageData } from "keyring-common";

const data = pageData();
const level = data.argon2;

function readNew() {
  const input = document.getElementById("kr-new");
  const confirm = document.getElementById("kr-confirm");
  const problem = passphraseProblem(input.value, confirm.value);
  if (problem) throw new Error(problem);
  const value = input.value;
  input.value = "";
  confirm.value = "";
  return value;
}

async function create() {
  const passphrase = readNew();
  await loadCrypto();
  const keys = cmk.OrgKeys.generate();
  try {
    const secret = keys.toSecretBytes();
    const blob = cmk.wrapSecret(secret, passphrase, level);
    secret.fill(0);
    const answer = await postJson(data.create_url, {
      signing_public: cmk.b64e(keys.signingPublic),
      encryption_public: cmk.b64e(keys.encryptionPublic),
      wrapped_secret: blob,
    }, data.csrf_token);
    document.getElementById("kr-create").hidden = true;
    return `Your user key was created. Fingerprint: ${answer.fingerprint}`;
  } finally {
    keys.wipe();
  }
}

async function change() {
  const old = document.getElementById("kr-old");
  const passphrase = readNew();
  await loadCrypto();
  let secret;
  try {
    secret = cmk.unwrapSecret(data.user_key.wrapped_secret, old.value);
  } catch {
    throw new Error("The current key passphrase is wrong.");
  } finally {
    old.value = "";
  }
  const blob = cmk.wrapSecret(secret, passphrase, level);
  secret.fill(0);
  await postJson(data.passphrase_url, { kid: data.user_key.kid, wrapped_secret: blob }, data.csrf_token);
  data.user_key.wrapped_secret = blob;
  return "Your key passphrase was changed.";
}

async function forget() {
  if (!document.getElementById("kr-forgot-confirm").checked) {
    throw new Error("Tick the box to confirm.");
  }
  const answer = await postJson(data.delete_url, { kid: data.user_key.kid }, data.csrf_token);
  window.setTimeout(() => window.location.reload(), 1500);
  return `Your user key was removed (${answer.shares_dropped} root key copies dropped). Create a new one.`;
}

watchStrength();
document.getElementById("kr-forgot")?.addEventListener("submit", (event) => {
  event.preventDefault();
  run(forget, "Removing your user key…");
});
document.getElementById("kr-create")?.addEventListener("submit", (event) => {
  event.preventDefault();
  run(create, "Creating your user key…");
});
document.getElementById("kr-change")?.addEventListener("submit", (event) => {
  event.preventDefault();
  run(change, "Re-encrypting your user key…");
});
loadCrypto().catch((error) => run(async () => { throw error; }, ""));
