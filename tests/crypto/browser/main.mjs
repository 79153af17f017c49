// Test page for tests/crypto/test_crypto_browser.py: runs the browser crypto API under the
// page's CSP and leaves its results in window.__result for the test to read over CDP.
const params = new URLSearchParams(location.search);
const apiUrl = params.get("api") === "bundle" ? "/static/vendor/opencmk-crypto.mjs" : "/static/js/crypto/index.mjs";

async function run() {
  const c = await import(apiUrl);
  try {
    await c.ready();
  } catch (error) {
    return { error: `${error.name}: ${error.message}`, backend: c.backend() };
  }
  const input = await (await fetch("/input.json")).json();
  const keys = c.OrgKeys.generate();
  const payload = { type: "tenant-root", vendor_id: "acme", issued_at: c.issuedAtNow(), tenant_id: "tenant-1" };
  const pythonPayload = c.verifyStatement(input.statement, {
    expectedType: input.statement.type,
    publicKey: c.b64d(input.signing_public),
  });
  return {
    backend: c.backend(),
    version: c.sodiumVersion(),
    signing_public: c.b64e(keys.signingPublic),
    statement: c.signStatement("tenant-root", payload, keys),
    sealed: c.sealConfig({
      kind: "kms", tenantId: "tenant-1", configId: 17, plaintext: input.plaintext,
      recipients: [c.b64d(input.recipient_public)],
    }),
    blob: c.wrapSecret(keys.toSecretBytes(), input.passphrase, {
      opslimit: c.OPSLIMIT_INTERACTIVE, memlimit: c.MEMLIMIT_INTERACTIVE,
    }),
    secret: c.b64e(keys.toSecretBytes()),
    python_payload: pythonPayload,
  };
}

run().then(
  (result) => { window.__result = result; },
  (error) => { window.__result = { error: `${error.name}: ${error.message}` }; },
).finally(() => { document.getElementById("status").textContent = "done"; });
