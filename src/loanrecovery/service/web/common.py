"""What every page shares: the templates, the logged-in user from the session cookie, the
role check and the CSRF check.

A page without a live session answers 303 to ``/login`` (HTMX requests get ``HX-Redirect``);
a role without the page's permission gets 403. Every form carries the session's CSRF token
in a hidden ``csrf`` field; a POST without the right one is refused with 403 and changes
nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, status
from fastapi.templating import Jinja2Templates

from loanrecovery.service.auth import PERMISSIONS
from loanrecovery.service.db.models import User, WebSession
from loanrecovery.service.deps import DbSession
from loanrecovery.service.logins import session_for

__all__ = [
    "COOKIE",
    "LOGIN_CSRF_COOKIE",
    "HERE",
    "templates",
    "Page",
    "NeedLogin",
    "page_user",
    "require_page",
    "check_csrf",
    "render",
    "money",
]

COOKIE = "lr_session"
LOGIN_CSRF_COOKIE = "lr_login_csrf"
HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


def money(value: float | None) -> str:
    """``12,345.67``; an em dash for nothing."""
    return "—" if value is None else f"{value:,.2f}"


def pct(value: float | None) -> str:
    """``12.3%``; an em dash for nothing."""
    return "—" if value is None else f"{value:.1%}"


templates.env.filters["money"] = money
templates.env.filters["pct"] = pct


class NeedLogin(Exception):
    """No live session: the app's handler sends the browser to the log-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass
class Page:
    """The logged-in user of a page and their session (for its CSRF token)."""

    user: User
    web: WebSession

    def can(self, permission: str) -> bool:
        """Whether the user's role holds ``permission``."""
        return self.user.role in PERMISSIONS[permission]


def page_user(request: Request, db: DbSession) -> Page:
    """The user of the request's session cookie (:class:`NeedLogin` without a live one)."""
    cookie = request.cookies.get(COOKIE)
    found = None if not cookie else session_for(db, cookie)
    db.commit()  # end the read transaction; objects stay loaded
    if found is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise NeedLogin(quote(target, safe="/?=&"))
    return Page(user=found[0], web=found[1])


def require_page(permission: str) -> Callable[..., Any]:
    """A dependency letting through only the roles holding ``permission`` (403 otherwise)."""
    allowed = PERMISSIONS[permission]

    def check(page: Annotated[Page, Depends(page_user)]) -> Page:
        if page.user.role not in allowed:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"role {page.user.role!r} may not see this page"
            )
        return page

    return check


def check_csrf(page: Page, token: str | None) -> None:
    """403 unless ``token`` is the session's CSRF token."""
    if not token or not secrets.compare_digest(token, page.web.csrf):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")


def render(
    request: Request, name: str, page: Page | None, status_code: int = 200, **context: Any
) -> Any:
    """Render a template with the user, their CSRF token and what they may do."""
    nav = []
    if page is not None:
        for href, label, permission in (
            ("/work", "My queue", "queue.read"),
            ("/console", "Console", "console.read"),
            ("/policy", "Policy", "policy.read"),
            ("/audit", "Audit", "audit.read"),
        ):
            if page.can(permission):
                nav.append((href, label))
    return templates.TemplateResponse(
        request,
        name,
        {
            "page": page,
            "user": None if page is None else page.user,
            "csrf": None if page is None else page.web.csrf,
            "nav": nav,
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    )
