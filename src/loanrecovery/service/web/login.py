"""``/login``, ``/logout`` and ``/``: the log-in form (with a CSRF cookie of its own, as
there is no session yet), the session cookie, and the landing page by role."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response

from loanrecovery.service.deps import WriteSession
from loanrecovery.service.logins import SESSION_HOURS, end_session, log_in
from loanrecovery.service.web.common import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    Page,
    check_csrf,
    page_user,
    render,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


def _login_form(request: Request, next_path: str, error: str = "", code: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response: Response = render(
        request, "login.html", None, status_code=code, login_csrf=token, next_path=next_path,
        error=error,
    )  # fmt: skip
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", max_age=3600, path="/login"
    )
    return response


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:  # noqa: A002
    """The log-in form."""
    return _login_form(request, _safe_next(next))


@router.post("/login")
def login(
    request: Request,
    db: WriteSession,
    username: Annotated[str, Form(max_length=128)],
    password: Annotated[str, Form(max_length=1024)],
    csrf: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/",  # noqa: A002
) -> Response:
    """Check the password; on success set the session cookie and go on."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not csrf or not expected or not secrets.compare_digest(csrf, expected):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")
    with db.begin():
        result = log_in(db, username, password)
    if not result.ok:
        return _login_form(request, _safe_next(next), result.reason, status.HTTP_401_UNAUTHORIZED)
    response = RedirectResponse(_safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        COOKIE, result.cookie, httponly=True, samesite="strict", max_age=SESSION_HOURS * 3600,
        path="/",
    )  # fmt: skip
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(
    request: Request,
    db: WriteSession,
    page: Annotated[Page, Depends(page_user)],
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """End the session."""
    check_csrf(page, csrf)
    with db.begin():
        end_session(db, request.cookies.get(COOKIE, ""), actor=page.user.name)
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/")
def home(page: Annotated[Page, Depends(page_user)]) -> Response:
    """Each role's first page."""
    target = {"collector": "/work", "manager": "/console", "admin": "/console"}
    return RedirectResponse(target.get(page.user.role, "/audit"), status_code=303)
