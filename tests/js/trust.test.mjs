// verifiedClusterKeys: the tenant admin's browser seals only to cluster keys it can trace to
// the vendor root through the tenant's own certified root (docs/threat-model.md T2).
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as c from "../../static/js/crypto/index.mjs";

const VENDOR_ID = "6b1d1c8e-0000-4000-8000-000000000001";
let vendor;
let otherVendor;
let root;
let otherRoot;
let east;
let west;

before(async () => {
  await c.ready();
  [vendor, otherVendor, root, otherRoot, east, west] = [0, 1, 2, 3, 4, 5].map(() => c.OrgKeys.generate());
});

function tenantRootStatement(signer = vendor, certified = root, tenantId = "tenant-1") {
  return c.signStatement("tenant-root", {
    type: "tenant-root",
    vendor_id: VENDOR_ID,
    issued_at: c.issuedAtNow(),
    tenant_id: tenantId,
    signing_key: c.b64e(certified.signingPublic),
    encryption_key: c.b64e(certified.encryptionPublic),
  }, signer);
}

function cluster(id, keys, signer = vendor) {
  const statement = c.signStatement("proxy-cluster", {
    type: "proxy-cluster",
    vendor_id: VENDOR_ID,
    issued_at: c.issuedAtNow(),
    cluster_id: id,
    name: id,
    signing_key: c.b64e(keys.signingPublic),
    encryption_key: c.b64e(keys.encryptionPublic),
  }, signer);
  return { cluster_id: id, name: id, encryption_public: c.b64e(keys.encryptionPublic), statement };
}

function args(overrides = {}) {
  return {
    vendorRootPublic: c.b64e(vendor.signingPublic),
    tenantRootStatement: tenantRootStatement(),
    tenantRoot: root,
    tenantId: "tenant-1",
    vendorId: VENDOR_ID,
    clusters: [cluster("east", east), cluster("west", west)],
    ...overrides,
  };
}

const NOT_CERTIFIED = /tenant root key is not certified by your vendor's root key; nothing was sealed/;

describe("verifiedClusterKeys", () => {
  test("a good chain yields each cluster's key from its signed statement", () => {
    const keys = c.verifiedClusterKeys(args());
    assert.deepEqual([...keys.keys()], ["east", "west"]);
    assert.deepEqual(keys.get("east"), east.encryptionPublic);
    assert.deepEqual(keys.get("west"), west.encryptionPublic);
  });

  test("a swapped encryption key in the broker's row is refused", () => {
    const swapped = { ...cluster("east", east), encryption_public: c.b64e(otherRoot.encryptionPublic) };
    assert.throws(
      () => c.verifiedClusterKeys(args({ clusters: [swapped] })),
      { name: "StatementError", message: "Cluster east's key is not signed by your vendor; nothing was sealed." },
    );
  });

  test("without a row key, the key comes from the signed statement", () => {
    const { encryption_public: _, ...bare } = cluster("east", east);
    assert.deepEqual(c.verifiedClusterKeys(args({ clusters: [bare] })).get("east"), east.encryptionPublic);
  });

  test("a cluster statement re-signed with another key is refused", () => {
    // What a DB writer can do: replace the statement, but only with their own signature.
    const forged = cluster("east", otherRoot, otherVendor);
    assert.throws(
      () => c.verifiedClusterKeys(args({ clusters: [cluster("west", west), forged] })),
      { name: "StatementError", message: "Cluster east's key is not signed by your vendor; nothing was sealed." },
    );
  });

  test("a cluster statement with its payload tampered is refused", () => {
    const good = cluster("east", east);
    const payload = c.statementPayloadUnverified(good.statement);
    payload.encryption_key = c.b64e(otherRoot.encryptionPublic);
    const tampered = { ...good, statement: { ...good.statement, payload: c.b64e(c.canonicalJson(payload)) } };
    assert.throws(() => c.verifiedClusterKeys(args({ clusters: [tampered] })), /Cluster east's key is not signed/);
  });

  test("another cluster's genuine statement does not vouch for this cluster id", () => {
    const borrowed = { ...cluster("east", east), statement: cluster("west", west).statement };
    assert.throws(() => c.verifiedClusterKeys(args({ clusters: [borrowed] })), /Cluster east's key is not signed/);
  });

  test("a wrong vendor root key with the genuine tenant-root statement is refused", () => {
    // Limit (docs/threat-model.md T2): whoever also re-signs the tenant-root statement with
    // their own key is not caught by this check alone.
    assert.throws(() => c.verifiedClusterKeys(args({
      vendorRootPublic: c.b64e(otherVendor.signingPublic),
      clusters: [cluster("east", otherRoot, otherVendor)],
    })), NOT_CERTIFIED);
  });

  test("a tenant-root statement for another root is refused", () => {
    assert.throws(() => c.verifiedClusterKeys(args({
      tenantRootStatement: tenantRootStatement(vendor, otherRoot),
    })), NOT_CERTIFIED);
  });

  test("a tenant-root statement for another tenant id is refused", () => {
    assert.throws(() => c.verifiedClusterKeys(args({
      tenantRootStatement: tenantRootStatement(vendor, root, "tenant-2"),
    })), NOT_CERTIFIED);
  });

  test("a missing tenant-root statement or vendor root is refused", () => {
    assert.throws(() => c.verifiedClusterKeys(args({ tenantRootStatement: null })), NOT_CERTIFIED);
    assert.throws(() => c.verifiedClusterKeys(args({ vendorRootPublic: null })), NOT_CERTIFIED);
  });
});
