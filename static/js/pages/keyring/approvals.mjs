// Vendor approval of tenant root keys: signs a tenant-root statement with the vendor root.
import { cmk, loadCrypto, pageData, postJson, rootKeys, run } from "keyring-common";

const data = pageData();

async function approve(rootPublicId, button) {
  const pending = data.pending.find((r) => r.public_id === rootPublicId);
  if (!pending) throw new Error("Unknown tenant root key.");
  await loadCrypto();
  // The fingerprint the admin compared must be the key being certified: recompute it here
  // rather than trusting the one the broker rendered.
  if (cmk.fingerprint(cmk.kid(cmk.b64d(pending.signing_public))) !== pending.fingerprint) {
    throw new Error("The displayed fingerprint does not match the key; refusing to approve.");
  }
  const root = await rootKeys(data);
  let statement;
  try {
    statement = cmk.signStatement("tenant-root", {
      type: "tenant-root",
      vendor_id: data.vendor_id,
      issued_at: cmk.issuedAtNow(),
      tenant_id: pending.tenant_id,
      signing_key: pending.signing_public,
      encryption_key: pending.encryption_public,
    }, root);
  } finally {
    root.wipe();
  }
  await postJson(pending.approve_url, { statement }, data.csrf_token);
  button.disabled = true;
  return `Approved the root key of ${pending.tenant_name} (${pending.tenant_id}).`;
}

for (const button of document.querySelectorAll("[data-approve]")) {
  button.addEventListener("click", () => run(() => approve(button.dataset.approve, button), "Approving…"));
}
loadCrypto().catch((error) => run(async () => { throw error; }, ""));
