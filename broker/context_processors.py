"""Template context shared by every page: the organisations the user can switch between."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def organisations(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Imported lazily: context processors load before the app registry is fully used.
    from accounts.selectors import organisation_list_for_user

    return {"user_organisations": organisation_list_for_user(user=user)}
