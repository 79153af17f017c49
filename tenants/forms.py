from __future__ import annotations

from django import forms

from tenants.models import TenantStatus, tenant_id_validator


class TenantCreateForm(forms.Form):
    tenant_id = forms.CharField(
        label="Tenant id",
        max_length=128,
        validators=[tenant_id_validator],
        help_text="The tenantId your application sends: 1-128 letters, digits, “.”, “_” or “-”.",
    )
    name = forms.CharField(label="Customer name", max_length=200)
    admin_email = forms.EmailField(
        label="Tenant admin's e-mail",
        max_length=254,
        help_text="They receive an invitation to set up their keys.",
    )


class TenantFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=128)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "All statuses"), *TenantStatus.choices]
    )
