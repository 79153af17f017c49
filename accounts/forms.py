"""Forms shared by vendor and tenant pages."""

from __future__ import annotations

from django import forms

from vendors.models import Role


class InviteForm(forms.Form):
    email = forms.EmailField(label="E-mail address", max_length=254)
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.ADMIN)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)
