// Vendor or tenant keys page: create the organisation root key, share it with further admins.
import { cmk, loadCrypto, pageData, postJson, rootKeys, run, sealTo } from "keyring-common";

const data = pageData();

async function createRoot() {
  await loadCrypto();
  const root = cmk.OrgKeys.generate();
  try {
    // Sealed to the creator's own user key: no passphrase needed, only its public half.
    const answer = await postJson(data.root_url, {
      signing_public: cmk.b64e(root.signingPublic),
      encryption_public: cmk.b64e(root.encryptionPublic),
      recipient_kid: data.user_key.kid,
      sealed_secret: await sealTo(root, data.user_key.encryption_public),
    }, data.csrf_token);
    window.setTimeout(() => window.location.reload(), 1500);
    return `Root key created. Fingerprint: ${answer.fingerprint}`;
  } finally {
    root.wipe();
  }
}

async function share(userPublicId, button) {
  const pending = data.pending_shares.find((p) => p.user_public_id === userPublicId);
  if (!pending) throw new Error("Unknown recipient.");
  const root = await rootKeys(data);
  try {
    await postJson(data.share_url, {
      recipient: pending.user_public_id,
      recipient_kid: pending.user_kid,
      sealed_secret: await sealTo(root, pending.encryption_public),
    }, data.csrf_token);
  } finally {
    root.wipe();
  }
  button.disabled = true;
  return `Shared the root key with ${pending.email}.`;
}

document.getElementById("kr-create-root")?.addEventListener("click", (event) => {
  event.currentTarget.disabled = true;
  run(createRoot, "Creating the root key…");
});
for (const button of document.querySelectorAll("[data-share]")) {
  button.addEventListener("click", () => run(() => share(button.dataset.share, button), "Sharing…"));
}
loadCrypto().catch((error) => run(async () => { throw error; }, ""));
