"""Template helpers for accessible forms: errors and help text tied to their field."""

from __future__ import annotations

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def widget(field: BoundField) -> SafeString:
    attrs: dict[str, str | bool] = {}
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}-help")
    if field.errors:
        described.append(f"{field.auto_id}-errors")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)


@register.filter
def fingerprint(value: str) -> str:
    """Groups of four characters, the way key ids are compared out of band (DESIGN.md §2)."""
    text = str(value)
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))
