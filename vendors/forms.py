from __future__ import annotations

from django import forms


class VendorCreateForm(forms.Form):
    name = forms.CharField(
        label="Organisation name",
        max_length=200,
        help_text="The name your customers will see, e.g. “Acme SaaS”.",
    )


class VendorSettingsForm(forms.Form):
    require_tenant_admin_mfa = forms.BooleanField(
        label="Tenant admins must use two-factor authentication",
        required=False,
        help_text="When on, a tenant admin must enrol an authenticator app or security key "
        "before any admin action.",
    )
