// KMS configuration page: validate a provider form, seal the config JSON to the tenant root and
// every allowed cluster, sign the next tenant-policy version, post both (DESIGN.md §3-§5).
// The plaintext exists only in this function's variables; inputs are cleared right after sealing.
import { cmk, loadCrypto, pageData, postJson, rootKeys, run, status } from "keyring-common";

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

function readValues(provider, set = fieldset(provider)) {
  const values = {};
  for (const input of set.querySelectorAll("[data-field]")) {
    const value = input.value.trim();
    if (value !== "") values[input.dataset.field] = value;
  }
  return values;
}

function clearInputs(container = form, labelId = "kc-label") {
  for (const input of container.querySelectorAll("[data-field]")) {
    input.value = input.defaultValue && input.type !== "password" ? input.defaultValue : "";
  }
  document.getElementById(labelId).value = "";
}

/** Browser-side validation: the broker cannot see the fields (docs/kms-providers.md). */
export function problem(provider, values, specs = data.providers) {
  const spec = specs[provider];
  if (!spec) return "Unknown provider.";
  const missing = spec.required.filter((name) => !values[name]);
  if (missing.length) return `Required: ${missing.join(", ")}.`;
  if (spec.one_of.length && !spec.one_of.some((group) => group.every((name) => values[name]))) {
    return `Fill one of: ${spec.one_of.map((g) => g.join(" + ")).join(" or ")}.`;
  }
  for (const [name, length] of Object.entries(spec.min_lengths || {})) {
    if ((values[name] || "").length < length) return `${name} needs at least ${length} characters.`;
  }
  for (const name of spec.urls) {
    if (values[name] && !/^https?:\/\/[^\s/]+/.test(values[name])) return `${name} must be a URL.`;
  }
  return null;
}

/** The next policy's KMS entries after a lifecycle action (issue 5 item 3). */
export function changedEntries(entries, configId, action) {
  const kms = entries.map((e) => ({ ...e }));
  const target = kms.find((e) => e.config_id === configId);
  if (!target) throw new Error("Unknown config.");
  if (target.state === "primary" && (action === "disable" || action === "delete")) {
    throw new Error("Make another config primary first.");
  }
  if (action === "primary") {
    if (target.state !== "active") throw new Error("Only an active config can become primary.");
    for (const e of kms) if (e.state === "primary") e.state = "active";
    target.state = "primary";
  } else if (action === "disable") {
    target.state = "disabled";
  } else if (action === "enable") {
    const inUse = kms.some((e) => e.state === "primary" || e.state === "active");
    target.state = inUse ? "active" : "primary";
  } else if (action === "delete") {
    return kms.filter((e) => e !== target);
  } else {
    throw new Error("Unknown action.");
  }
  return kms;
}

function policyWith(kms, { clusters = data.clusters.map((c) => c.cluster_id), logging, leasing } = {}) {
  const current = data.policy || {};
  return {
    type: "tenant-policy",
    vendor_id: data.vendor_id,
    issued_at: cmk.issuedAtNow(),
    tenant_id: data.tenant_id,
    version: (current.version || 0) + 1,
    kms_configs: kms,
    logging: logging !== undefined ? logging : current.logging ?? null,
    leasing: leasing || current.leasing || { enabled: false, max_age_s: 3600 },
    clusters,
  };
}

function nextPayload(entry) {
  const kms = ((data.policy || {}).kms_configs || []).map((e) => ({ ...e }));
  const inUse = kms.some((e) => e.state === "primary" || e.state === "active");
  kms.push({ ...entry, state: inUse ? "active" : "primary" });
  return policyWith(kms);
}

const WARNINGS = {
  disable: "Data wrapped under this KMS config becomes unreadable until you re-enable it. Disable it?",
  delete: "Data wrapped under this KMS config becomes unreadable for good. Delete it from the policy?",
};

/** Disable, re-enable, make primary or delete: a new signed policy, no new sealed blob. */
async function changeState(configId, action) {
  const kms = changedEntries((data.policy || {}).kms_configs || [], configId, action);
  if (WARNINGS[action] && !window.confirm(WARNINGS[action])) return "Nothing changed.";
  await loadCrypto();
  return signAndPost(policyWith(kms), () => []);
}

let editing = null; // config id whose decrypted content fills the form

/** Opens a sealed config with the tenant root, in this page only, and fills the form with it. */
async function editConfig(configId) {
  const stored = data.sealed[String(configId)];
  if (!stored) throw new Error("Unknown config.");
  await loadCrypto();
  const root = await rootKeys(data);
  let config;
  try {
    const plaintext = cmk.openConfig(stored.sealed, {
      privateKey: root, tenantId: data.tenant_id, configId, kind: "kms",
    });
    config = JSON.parse(new TextDecoder().decode(plaintext));
    plaintext.fill(0);
  } finally {
    root.wipe();
  }
  providerSelect.value = config.provider;
  providerSelect.disabled = true;
  showProvider();
  clearInputs();
  for (const input of fieldset(config.provider).querySelectorAll("[data-field]")) {
    input.value = config[input.dataset.field] ?? "";
  }
  config = null;
  document.getElementById("kc-label").value = stored.label;
  editing = configId;
  form.scrollIntoView();
  return `Editing config #${configId}: change fields, then Seal and sign.`;
}

async function addConfig() {
  const provider = providerSelect.value;
  const label = document.getElementById("kc-label").value.trim();
  let values = readValues(provider);
  const invalid = problem(provider, values);
  if (invalid) throw new Error(invalid);
  await loadCrypto();
  try {
    const configId = editing
      ?? (await postJson(data.config_id_url, { kind: "kms" }, data.csrf_token)).config_id;
    return await signAndPost(null, (root) => {
      const sealed = cmk.sealConfig({
        kind: "kms",
        tenantId: data.tenant_id,
        configId,
        plaintext: JSON.stringify({ provider, ...values }),
        recipients: recipientKeys(root, data.clusters.map((c) => c.cluster_id)),
      });
      values = null;
      clearInputs();
      const entry = { config_id: configId, provider, content_digest: cmk.contentDigest(sealed) };
      const payload = editing ? policyWith(currentKms().map(
        (e) => (e.config_id === configId ? { ...e, content_digest: entry.content_digest } : e),
      )) : nextPayload(entry);
      return { payload, uploads: [{ sealed, label }] };
    });
  } finally {
    values = null;
  }
}

if (form) {
  providerSelect.addEventListener("change", showProvider);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(addConfig, "Sealing…");
  });
}
/** Unlocks the root, runs ``uploads(root)`` (sealed configs, or {payload, uploads} when the
 * payload depends on what was sealed), re-seals what a dropped cluster could open, signs the
 * payload and posts it all in one request: the broker stores everything or nothing. */
async function signAndPost(payload, uploads) {
  const root = await rootKeys(data);
  try {
    let sealedConfigs = uploads(root);
    if (payload === null) ({ payload, uploads: sealedConfigs } = sealedConfigs);
    const resealed = await resealStale(payload, sealedConfigs, root);
    const statement = cmk.signStatement("tenant-policy", payload, root);
    const answer = await postJson(
      data.policy_url, { statement, sealed_configs: resealed.uploads }, data.csrf_token,
    );
    window.setTimeout(() => window.location.reload(), 1500);
    const note = resealed.count ? `Re-sealed ${configurations(resealed.count)} and signed` : "Signed";
    return `${note} policy version ${answer.version}.`;
  } finally {
    root.wipe();
  }
}

function configurations(count) {
  return `${count} configuration${count === 1 ? "" : "s"}`;
}

/**
 * The X25519 keys that may open configs under ``payload``: the tenant root and its clusters.
 * Cluster keys come from vendor-signed statements checked here, never from the broker's rows
 * (docs/threat-model.md T2); any failure throws before anything is sealed or sent.
 */
function recipientKeys(root, clusterIds) {
  const known = new Map([...data.clusters, ...data.pending_clusters].map((c) => [c.cluster_id, c]));
  const wanted = clusterIds.map((id) => {
    if (!known.has(id)) throw new Error(`Unknown cluster ${id}.`);
    return known.get(id);
  });
  const keys = cmk.verifiedClusterKeys({
    vendorRootPublic: data.vendor_root_public,
    tenantRootStatement: data.tenant_root_statement,
    tenantRoot: root,
    tenantId: data.tenant_id,
    vendorId: data.vendor_id,
    clusters: wanted,
  });
  return [root.encryptionPublic, ...clusterIds.map((id) => keys.get(id))];
}

/**
 * Every blob ``payload`` names that a key outside it can open (a removed or revoked cluster) is
 * re-sealed under a fresh CEK to exactly the allowed keys, and ``payload`` takes the new
 * digests; config ids, labels and states stay. Blobs being uploaded anyway are checked too.
 */
async function resealStale(payload, uploads, root) {
  const keys = recipientKeys(root, payload.clusters);
  const allowed = new Set(keys.map((k) => cmk.kid(k)));
  const named = new Set([...payload.kms_configs.map((e) => e.config_id), payload.logging?.config_id]);
  const blobs = new Map(Object.values(data.sealed).map((b) => [b.sealed.config_id, b]));
  for (const upload of uploads) blobs.set(upload.sealed.config_id, upload);
  const stale = [...blobs.values()].filter(({ sealed }) => named.has(sealed.config_id)
    && sealed.recipients.some((r) => !allowed.has(r.kid)));
  if (stale.length === 0) return { uploads, count: 0 };
  status(`Re-sealing ${configurations(stale.length)}…`);
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))); // paint it
  const digests = new Map();
  const fresh = stale.map(({ sealed, label }) => {
    let copy;
    try {
      copy = cmk.resealConfig(sealed, { privateKey: root, recipients: keys });
    } catch (error) {
      throw new Error(`Config #${sealed.config_id} could not be re-sealed (${error.message}); nothing was sent.`);
    }
    digests.set(copy.config_id, cmk.contentDigest(copy));
    return { sealed: copy, label };
  });
  const digest = (e) => (digests.has(e.config_id) ? { ...e, content_digest: digests.get(e.config_id) } : e);
  payload.kms_configs = payload.kms_configs.map(digest);
  if (payload.logging) payload.logging = digest(payload.logging);
  return {
    uploads: [...uploads.filter((u) => !digests.has(u.sealed.config_id)), ...fresh],
    count: fresh.length,
  };
}

/** Approving a cluster re-shares each config's key with it: same ciphertext, same digests. */
async function approveCluster(clusterId) {
  const cluster = data.pending_clusters.find((c) => c.cluster_id === clusterId);
  if (!cluster) throw new Error("Unknown cluster.");
  await loadCrypto();
  const kms = ((data.policy || {}).kms_configs || []).map((e) => ({ ...e }));
  const clusters = [...data.clusters.map((c) => c.cluster_id), clusterId];
  return signAndPost(policyWith(kms, { clusters }), (root) => {
    const newPublicKey = recipientKeys(root, [clusterId])[1];
    return Object.values(data.sealed).map(({ sealed, label }) => ({
      sealed: cmk.addRecipient(sealed, { privateKey: root, newPublicKey }),
      label,
    }));
  });
}

/** Removing a cluster re-seals every config under a fresh key without it, in one submission. */
async function removeCluster(clusterId) {
  const question = "Proxies of this cluster stop serving your tenant, and every configuration is "
    + "re-sealed so that its key no longer opens them. Remove it?";
  if (!window.confirm(question)) return "Nothing changed.";
  await loadCrypto();
  const clusters = data.clusters.map((c) => c.cluster_id).filter((c) => c !== clusterId);
  try {
    return await signAndPost(policyWith(currentKms(), { clusters }), () => []);
  } catch (error) {
    throw new Error(`The cluster was not removed: ${error.message} Nothing was changed.`);
  }
}

function currentKms() {
  return ((data.policy || {}).kms_configs || []).map((e) => ({ ...e }));
}

/** Seals a logging config (replacing the current one under the same config id) and signs. */
async function setLogging() {
  const logForm = document.getElementById("kl-add");
  const provider = document.getElementById("kl-provider").value;
  const set = logForm.querySelector(`fieldset[data-log-provider="${provider}"]`);
  const label = document.getElementById("kl-label").value.trim() || provider;
  let values = readValues(provider, set);
  const invalid = problem(provider, values, data.logging_providers);
  if (invalid) throw new Error(invalid);
  await loadCrypto();
  const current = (data.policy || {}).logging;
  const configId = current ? current.config_id
    : (await postJson(data.config_id_url, { kind: "logging" }, data.csrf_token)).config_id;
  return signAndPost(null, (root) => {
    const sealed = cmk.sealConfig({
      kind: "logging",
      tenantId: data.tenant_id,
      configId,
      plaintext: JSON.stringify({ provider, ...values }),
      recipients: recipientKeys(root, data.clusters.map((c) => c.cluster_id)),
    });
    values = null;
    clearInputs(logForm, "kl-label");
    const logging = { config_id: configId, content_digest: cmk.contentDigest(sealed) };
    return { payload: policyWith(currentKms(), { logging }), uploads: [{ sealed, label }] };
  });
}

async function setLeasing() {
  const enabled = document.getElementById("kc-leasing-enabled").checked;
  const maxAge = Number(document.getElementById("kc-leasing-max-age").value);
  if (!Number.isInteger(maxAge) || maxAge < 1 || maxAge > 2592000) {
    throw new Error("The maximum lease age must be 1 to 2592000 seconds.");
  }
  if (enabled && !(data.policy || {}).logging) throw new Error("Key leasing needs a logging config.");
  await loadCrypto();
  return signAndPost(policyWith(currentKms(), { leasing: { enabled, max_age_s: maxAge } }), () => []);
}

document.getElementById("kl-provider")?.addEventListener("change", (event) => {
  for (const set of document.querySelectorAll("fieldset.kl-provider")) {
    set.hidden = set.dataset.logProvider !== event.target.value;
  }
});
document.getElementById("kl-add")?.addEventListener("submit", (event) => {
  event.preventDefault();
  run(setLogging, "Sealing…");
});
document.getElementById("kc-leasing")?.addEventListener("submit", (event) => {
  event.preventDefault();
  run(setLeasing, "Signing…");
});
for (const button of document.querySelectorAll("[data-cluster-approve]")) {
  button.addEventListener("click", () => run(() => approveCluster(button.dataset.clusterApprove), "Approving…"));
}
for (const button of document.querySelectorAll("[data-cluster-remove]")) {
  button.addEventListener("click", () => run(() => removeCluster(button.dataset.clusterRemove), "Removing…"));
}
for (const button of document.querySelectorAll("[data-edit]")) {
  button.addEventListener("click", () => run(() => editConfig(Number(button.dataset.edit)), "Opening…"));
}
for (const button of document.querySelectorAll("[data-action]")) {
  button.addEventListener("click", () => {
    run(() => changeState(Number(button.dataset.config), button.dataset.action), "Signing…");
  });
}
loadCrypto().catch((error) => run(async () => { throw error; }, ""));
