// Recipient keys the tenant admin's browser may seal to, derived from signed statements only
// (docs/threat-model.md T2). The broker's rows are not trusted: someone who can write its
// database could swap a cluster's encryption key and receive every config sealed afterwards.
// The chain: the tenant's own root public keys (held unlocked in this page) must be certified
// by a `tenant-root` statement under the vendor root key the broker names — a forged vendor
// key cannot sign the tenant's real root — and each cluster's encryption key is taken from its
// `proxy-cluster` statement verified under that vendor root.
import { b64d } from "./encoding.mjs";
import { StatementError } from "./errors.mjs";
import { kid } from "./keys.mjs";
import { verifyStatement } from "./statements.mjs";

function sameKey(b64, bytes) {
  try {
    return typeof b64 === "string" && kid(b64d(b64)) === kid(bytes);
  } catch {
    return false;
  }
}

/**
 * Returns a Map cluster_id -> X25519 public key (Uint8Array) for ``clusters`` ([{cluster_id,
 * name, statement}]), each key read from a verified `proxy-cluster` payload. Throws
 * StatementError, naming what failed, before anything could be sealed: the tenant-root
 * statement must verify under ``vendorRootPublic`` and name exactly ``tenantRoot``'s signing
 * and encryption public keys and ``tenantId`` (and ``vendorId`` when given); every cluster
 * statement must verify under the same vendor root and name that cluster id, and a cluster's
 * ``encryption_public`` (the broker's row), when present, must equal the signed key.
 */
export function verifiedClusterKeys({
  vendorRootPublic, tenantRootStatement, tenantRoot, tenantId, vendorId, clusters,
}) {
  const rootProblem = "Your tenant root key is not certified by your vendor's root key; nothing was sealed.";
  if (!vendorRootPublic || !tenantRootStatement) throw new StatementError(rootProblem);
  let vendorKey;
  let certified;
  try {
    vendorKey = typeof vendorRootPublic === "string" ? b64d(vendorRootPublic) : vendorRootPublic;
    certified = verifyStatement(tenantRootStatement, { expectedType: "tenant-root", publicKey: vendorKey });
  } catch {
    throw new StatementError(rootProblem);
  }
  if (certified.tenant_id !== tenantId
      || (vendorId !== undefined && String(certified.vendor_id) !== String(vendorId))
      || !sameKey(certified.signing_key, tenantRoot.signingPublic)
      || !sameKey(certified.encryption_key, tenantRoot.encryptionPublic)) {
    throw new StatementError(rootProblem);
  }
  const keys = new Map();
  for (const cluster of clusters) {
    const label = cluster.name || cluster.cluster_id;
    const refuse = new StatementError(`Cluster ${label}'s key is not signed by your vendor; nothing was sealed.`);
    let payload;
    try {
      payload = verifyStatement(cluster.statement, { expectedType: "proxy-cluster", publicKey: vendorKey });
    } catch {
      throw refuse;
    }
    if (payload.cluster_id !== cluster.cluster_id || String(payload.vendor_id) !== String(certified.vendor_id)) {
      throw refuse;
    }
    let key;
    try {
      key = b64d(payload.encryption_key);
    } catch {
      throw refuse;
    }
    if (key.length !== 32) throw refuse;
    // A row that disagrees with its own signed statement was tampered with: refuse loudly.
    if (cluster.encryption_public !== undefined && !sameKey(cluster.encryption_public, key)) throw refuse;
    keys.set(cluster.cluster_id, key);
  }
  return keys;
}
