// KMS configuration page: validate a provider form, seal the config JSON to the tenant root and
// every allowed cluster, sign the next tenant-policy version, post both (DESIGN.md §3-§5).
// The plaintext exists only in this function's variables; inputs are cleared right after sealing.
import { cmk, loadCrypto, pageData, postJson, rootKeys, run } from "keyring-common";

const data = pageData();
const form = document.getElementById("kc-add");
const providerSelect = document.getElementById("kc-provider");

function fieldset(provider) {
  return document.querySelector(`fieldset[data-provider="${provider}"]`);
}

function showProvider() {
  for (const set of document.querySelectorAll("fieldset.kc-provider")) {
    set.hidden = set.dataset.provider !== providerSelect.value;
  }
}

function readValues(provider) {
  const values = {};
  for (const input of fieldset(provider).querySelectorAll("[data-field]")) {
    const value = input.value.trim();
    if (value !== "") values[input.dataset.field] = value;
  }
  return values;
}

function clearInputs() {
  for (const input of form.querySelectorAll("[data-field]")) {
    input.value = input.defaultValue && input.type !== "password" ? input.defaultValue : "";
  }
  document.getElementById("kc-label").value = "";
}

/** Browser-side validation: the broker cannot see the fields (docs/kms-providers.md). */
export function problem(provider, values) {
  const spec = data.providers[provider];
  if (!spec) return "Unknown provider.";
  const missing = spec.required.filter((name) => !values[name]);
  if (missing.length) return `Required: ${missing.join(", ")}.`;
  if (spec.one_of.length && !spec.one_of.some((group) => group.every((name) => values[name]))) {
    return `Fill one of: ${spec.one_of.map((g) => g.join(" + ")).join(" or ")}.`;
  }
  for (const name of spec.urls) {
    if (values[name] && !/^https?:\/\/[^\s/]+/.test(values[name])) return `${name} must be a URL.`;
  }
  return null;
}

function nextPayload(entry) {
  const current = data.policy || {};
  const kms = (current.kms_configs || []).map((e) => ({ ...e }));
  const inUse = kms.some((e) => e.state === "primary" || e.state === "active");
  kms.push({ ...entry, state: inUse ? "active" : "primary" });
  return {
    type: "tenant-policy",
    vendor_id: data.vendor_id,
    issued_at: cmk.issuedAtNow(),
    tenant_id: data.tenant_id,
    version: (current.version || 0) + 1,
    kms_configs: kms,
    logging: current.logging ?? null,
    leasing: current.leasing || { enabled: false, max_age_s: 3600 },
    clusters: data.clusters.map((c) => c.cluster_id),
  };
}

async function addConfig() {
  const provider = providerSelect.value;
  const label = document.getElementById("kc-label").value.trim();
  let values = readValues(provider);
  const invalid = problem(provider, values);
  if (invalid) throw new Error(invalid);
  await loadCrypto();
  const root = await rootKeys(data);
  let sealed;
  try {
    const { config_id: configId } = await postJson(data.config_id_url, { kind: "kms" }, data.csrf_token);
    sealed = cmk.sealConfig({
      kind: "kms",
      tenantId: data.tenant_id,
      configId,
      plaintext: JSON.stringify({ provider, ...values }),
      recipients: [root.encryptionPublic, ...data.clusters.map((c) => cmk.b64d(c.encryption_public))],
    });
    values = null;
    clearInputs();
    const payload = nextPayload({ config_id: configId, provider, content_digest: cmk.contentDigest(sealed) });
    const statement = cmk.signStatement("tenant-policy", payload, root);
    const answer = await postJson(
      data.policy_url, { statement, sealed_configs: [{ sealed, label }] }, data.csrf_token,
    );
    window.setTimeout(() => window.location.reload(), 1500);
    return `Sealed and signed policy version ${answer.version}.`;
  } finally {
    values = null;
    root.wipe();
  }
}

if (form) {
  providerSelect.addEventListener("change", showProvider);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(addConfig, "Sealing…");
  });
}
loadCrypto().catch((error) => run(async () => { throw error; }, ""));
