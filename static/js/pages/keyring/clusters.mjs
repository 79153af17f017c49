// Proxy clusters: register (sign proxy-cluster over the pasted public keys) and revoke.
import { cmk, loadCrypto, pageData, postJson, rootKeys, run } from "keyring-common";

const data = pageData();
const PUBLIC_FIELDS = new Set(["signing_key", "encryption_key", "kid"]);

/** Parses keygen's public lines; refuses (and clears) anything that looks private. */
export function parseKeygen(text) {
  const fields = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const at = line.indexOf("=");
    const name = at > 0 ? line.slice(0, at).trim() : "";
    if (!PUBLIC_FIELDS.has(name)) {
      throw new Error(/PRIVATE|TSP_CLUSTER_(SIGNING|ENCRYPTION)_KEY/i.test(line)
        ? "That includes the proxy's PRIVATE keys. They were not sent; paste only the public lines, and keep the private ones in the proxy's secret store."
        : "Paste only the signing_key=, encryption_key= and kid= lines printed by keygen.");
    }
    fields[name] = line.slice(at + 1).trim();
  }
  if (!fields.signing_key || !fields.encryption_key) {
    throw new Error("Both signing_key= and encryption_key= are needed.");
  }
  return fields;
}

async function register() {
  const keysInput = document.getElementById("kr-cluster-keys");
  const nameInput = document.getElementById("kr-cluster-name");
  let fields;
  try {
    fields = parseKeygen(keysInput.value);
  } catch (error) {
    keysInput.value = "";
    throw error;
  }
  await loadCrypto();
  const signing = cmk.b64d(fields.signing_key);
  const encryption = cmk.b64d(fields.encryption_key);
  if (signing.length !== 32 || encryption.length !== 32) throw new Error("Keys must be 32 bytes.");
  const kid = cmk.kid(signing);
  if (fields.kid && fields.kid !== kid) throw new Error("kid does not match signing_key: was something mistyped?");
  const name = nameInput.value.trim();
  if (!name) throw new Error("Give the cluster a name.");
  const root = await rootKeys(data);
  let statement;
  try {
    statement = cmk.signStatement("proxy-cluster", {
      type: "proxy-cluster",
      vendor_id: data.vendor_id,
      issued_at: cmk.issuedAtNow(),
      cluster_id: `c-${kid.slice(0, 20)}`,
      name,
      signing_key: cmk.b64e(signing),
      encryption_key: cmk.b64e(encryption),
    }, root);
  } finally {
    root.wipe();
  }
  const answer = await postJson(data.register_url, {
    signing_public: cmk.b64e(signing),
    encryption_public: cmk.b64e(encryption),
    statement,
  }, data.csrf_token);
  window.setTimeout(() => window.location.reload(), 1500);
  return `Registered ${name} as ${answer.cluster_id}. Its environment is shown in the list.`;
}

async function revoke(publicId, button) {
  const cluster = data.clusters.find((c) => c.public_id === publicId);
  if (!cluster) throw new Error("Unknown cluster.");
  if (!window.confirm(`Revoke ${cluster.name}? Its proxies stop serving every tenant.`)) {
    return "Not revoked.";
  }
  await loadCrypto();
  const root = await rootKeys(data);
  let statement;
  try {
    statement = cmk.signStatement("proxy-cluster-revocation", {
      type: "proxy-cluster-revocation",
      vendor_id: data.vendor_id,
      issued_at: cmk.issuedAtNow(),
      cluster_id: cluster.cluster_id,
    }, root);
  } finally {
    root.wipe();
  }
  await postJson(cluster.revoke_url, { statement }, data.csrf_token);
  button.disabled = true;
  return `Revoked ${cluster.name}.`;
}

document.getElementById("kr-register")?.addEventListener("submit", (event) => {
  event.preventDefault();
  run(register, "Signing the cluster statement…");
});
for (const button of document.querySelectorAll("[data-revoke]")) {
  button.addEventListener("click", () => run(() => revoke(button.dataset.revoke, button), "Revoking…"));
}
loadCrypto().catch((error) => run(async () => { throw error; }, ""));
