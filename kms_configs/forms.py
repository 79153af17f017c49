"""The per-provider KMS config forms: fields, which are secret, what is required, and help.

The broker never sees the values (they are sealed in the browser); this table only drives the
form the page renders and the browser-side validation in ``static/js/pages/kms_configs/``.
Required fields and permissions follow docs/kms-providers.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    required: bool = False
    secret: bool = False
    kind: str = "text"  # "text", "url" or "textarea"
    default: str = ""
    help: str = ""


@dataclass(frozen=True)
class Provider:
    name: str
    title: str
    fields: list[Field]
    # Credential alternatives: at least one group must be filled completely.
    one_of: list[list[str]] = field(default_factory=list)
    permissions: str = ""
    key_use: str = ""


_ENDPOINT = Field("endpoint", "Endpoint (optional)", kind="url", help="Private endpoint.")

PROVIDERS: dict[str, Provider] = {
    "aws-kms": Provider(
        "aws-kms",
        "AWS KMS",
        [
            Field("key_arn", "Key ARN", help="Key or alias ARN; or give key id and region."),
            Field("key_id", "Key id"),
            Field("region", "Region"),
            Field("access_key_id", "Access key id", required=True),
            Field("secret_access_key", "Secret access key", required=True, secret=True),
            Field("role_arn", "Role ARN to assume (optional)"),
            Field("external_id", "External id (optional)"),
            _ENDPOINT,
        ],
        one_of=[["key_arn"], ["key_id", "region"]],
        permissions="kms:Encrypt and kms:Decrypt on the key, ideally with the condition "
        "kms:EncryptionContext:tenantId equal to your tenant id.",
        key_use="AWS CloudTrail logs every Encrypt and Decrypt with your tenant id.",
    ),
    "gcp-kms": Provider(
        "gcp-kms",
        "Google Cloud KMS",
        [
            Field("project_id", "Project id", required=True),
            Field("location_id", "Location", required=True),
            Field("key_ring_id", "Key ring", required=True),
            Field("crypto_key_id", "Crypto key", required=True),
            Field("client_email", "Service account e-mail", required=True),
            Field("private_key", "Service account private key", True, True, "textarea"),
            _ENDPOINT,
        ],
        permissions="roles/cloudkms.cryptoKeyEncrypterDecrypter on the key "
        "(cloudkms.cryptoKeyVersions.useToEncrypt and useToDecrypt).",
        key_use="Cloud Audit Logs: Data Access audit logs for Cloud KMS are off by default; "
        "turn on Data Read for the Cloud KMS API (IAM → Audit Logs) or key use is not logged.",
    ),
    "azure-key-vault": Provider(
        "azure-key-vault",
        "Azure Key Vault",
        [
            Field("vault_url", "Vault URL", required=True, kind="url"),
            Field("key_name", "Key name", required=True, help="An RSA key, 2048 bits or more."),
            Field("tenant_id", "Entra tenant id", required=True),
            Field("client_id", "Client id", required=True),
            Field("client_secret", "Client secret", required=True, secret=True),
            _ENDPOINT,
        ],
        permissions="get, wrapKey and unwrapKey on the key (or the RBAC role Key Vault Crypto "
        "Service Encryption User scoped to it).",
        key_use="Key Vault diagnostic settings → AuditEvent logs (off until you create one).",
    ),
    "vault-transit": Provider(
        "vault-transit",
        "HashiCorp Vault / OpenBao Transit",
        [
            Field("address", "Address", required=True, kind="url"),
            Field("mount", "Transit mount", default="transit"),
            Field("key_name", "Key name", required=True, help="Created with derived=true."),
            Field("namespace", "Namespace (optional)"),
            Field("token", "Token", secret=True),
            Field("role_id", "AppRole role id"),
            Field("secret_id", "AppRole secret id", secret=True),
            _ENDPOINT,
        ],
        one_of=[["token"], ["role_id", "secret_id"]],
        permissions="update on transit/encrypt/<key> and transit/decrypt/<key>, read on "
        "transit/keys/<key>.",
        key_use="A Vault audit device logs every encrypt and decrypt request.",
    ),
}


def provider_form_data() -> dict[str, dict[str, object]]:
    """What the page module validates against (names, required, alternatives, URL fields)."""
    return {
        p.name: {
            "fields": [f.name for f in p.fields],
            "required": [f.name for f in p.fields if f.required],
            "urls": [f.name for f in p.fields if f.kind == "url"],
            "one_of": p.one_of,
        }
        for p in PROVIDERS.values()
    }


_SECRET = {"secret": True, "required": True}

LOGGING_PROVIDERS: dict[str, Provider] = {
    "webhook": Provider(
        "webhook",
        "Webhook (HTTPS JSON batches, HMAC-signed)",
        [
            Field("url", "URL", required=True, kind="url"),
            Field("secret", "HMAC secret (16 characters or more)", **_SECRET),  # type: ignore[arg-type]
        ],
        permissions="Verify X-OpenCMK-Signature (HMAC-SHA256 of timestamp + '.' + body) and "
        "deduplicate on batch_id; see docs/security-events.md.",
    ),
    "splunk-hec": Provider(
        "splunk-hec",
        "Splunk HTTP Event Collector",
        [
            Field("url", "URL", required=True, kind="url"),
            Field("token", "HEC token", **_SECRET),  # type: ignore[arg-type]
            Field("index", "Index (optional)"),
        ],
        permissions="A HEC token allowed to write to the index.",
    ),
    "datadog": Provider(
        "datadog",
        "Datadog Logs",
        [
            Field("api_key", "API key", **_SECRET),  # type: ignore[arg-type]
            Field("site", "Site (optional)", help="Default datadoghq.com."),
        ],
        permissions="An API key of your Datadog organisation.",
    ),
    "elastic": Provider(
        "elastic",
        "Elasticsearch",
        [
            Field("url", "URL", required=True, kind="url"),
            Field("index", "Index", required=True),
            Field("api_key", "API key (encoded)", secret=True),
            Field("username", "User name"),
            Field("password", "Password", secret=True),
        ],
        one_of=[["api_key"], ["username", "password"]],
        permissions="create_doc on the index.",
    ),
    "gcp-cloud-logging": Provider(
        "gcp-cloud-logging",
        "Google Cloud Logging",
        [
            Field("project_id", "Project id", required=True),
            Field("log_id", "Log id", required=True),
            Field("client_email", "Service account e-mail", required=True),
            Field("private_key", "Service account private key", True, True, "textarea"),
        ],
        permissions="roles/logging.logWriter for the service account.",
    ),
    "syslog": Provider(
        "syslog",
        "Syslog over TLS (RFC 5424/5425)",
        [
            Field("host", "Host", required=True),
            Field("port", "Port (optional)", help="Default 6514."),
        ],
        permissions="A TLS syslog receiver the proxy can reach.",
    ),
}

# Browser-side minimum lengths (docs/security-events.md: webhook secrets ≥ 16 characters).
MIN_LENGTHS = {("webhook", "secret"): 16}


def logging_form_data() -> dict[str, dict[str, object]]:
    data = {}
    for p in LOGGING_PROVIDERS.values():
        data[p.name] = {
            "fields": [f.name for f in p.fields],
            "required": [f.name for f in p.fields if f.required],
            "urls": [f.name for f in p.fields if f.kind == "url"],
            "one_of": p.one_of,
            "min_lengths": {f: n for (pr, f), n in MIN_LENGTHS.items() if pr == p.name},
        }
    return data
