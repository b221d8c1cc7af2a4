"""Request guards every feature's views share: who may call a route, and its JSON body."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from flask import current_app, render_template, request
from flask_login import current_user

from console.core.errors import DomainError
from console.core.i18n import pick_language, table
from console.users import services as users

if TYPE_CHECKING:
    from console.node import Hotline

F = TypeVar("F", bound=Callable[..., Any])


def json_body() -> dict[str, Any]:
    """The request's JSON object; anything else is a clear 400 (invalid-input)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise DomainError("invalid-input", "JSON object expected")
    return data


def roles(*allowed: str) -> Callable[[F], F]:
    """Only logged-in users with one of these roles get through (401/403 otherwise)."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if allowed and current_user.role not in allowed:
                raise DomainError("forbidden")
            return fn(*args, **kwargs)

        return inner  # type: ignore[return-value]

    return wrap


def current_agent_id() -> int:
    """The signed-in user's agent id; a user without an agent record gets 404."""
    if current_user.agent_id is None:
        raise DomainError("agent-not-found")
    return int(current_user.agent_id)


def hotline() -> Hotline:
    """The node this web process belongs to (built by the composition root)."""
    node: Hotline = current_app.extensions["hotline"]
    return node


def page(template: str, **kw: Any) -> Any:
    """A page in the signed-in user's language, with her translation table."""
    return render_template(
        template, t=table(current_user.language), lang=current_user.language, **kw
    )


def my_agent_id() -> int:
    """The signed-in user's agent id, looked up now; anyone without one is refused (403)."""
    with hotline().sessions() as s:
        agent_id = users.agent_id_of(s, current_user.id)
    if agent_id is None:
        raise DomainError("forbidden")
    return agent_id


def timezone() -> str:
    """The centre's time zone (IANA name): days and shifts are counted in it."""
    return hotline().settings.timezone


def language() -> str:
    """The current user's language, else the browser's, else the centre's default."""
    if getattr(current_user, "is_authenticated", False):
        chosen: str = current_user.language
        return chosen
    return pick_language(request.headers.get("Accept-Language") if request else None)
