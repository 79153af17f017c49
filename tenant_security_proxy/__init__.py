"""OpenCMK Tenant Security Proxy: an IronCore-compatible key service over each tenant's own KMS.

Stateless ASGI service. It must never import Django (a test pins this).
"""

from __future__ import annotations

__version__ = "0.1.0"
