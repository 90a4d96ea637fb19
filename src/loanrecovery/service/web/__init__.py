"""The web pages of the service (issue 13): server-rendered Jinja2 templates, HTMX for
partial updates (vendored in ``static/``; nothing is fetched from outside), log-in with a
password and a session cookie, CSRF tokens on every form, roles checked on every page.
docs/web.md describes them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from loanrecovery.service.web import case_page, console, login, queue
from loanrecovery.service.web.common import HERE, NeedLogin, render

__all__ = ["install"]

#: Where the pages may load from: this server only.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_NOT_PAGES = ("/api/", "/docs", "/redoc", "/openapi.json")


def _is_page(path: str) -> bool:
    return not path.startswith(_NOT_PAGES)


def install(app: FastAPI) -> None:
    """Mount the pages, the static files and the pages' error handling on ``app``."""
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for module in (login, queue, case_page, console):
        app.include_router(module.router)

    @app.exception_handler(NeedLogin)
    async def need_login(request: Request, exc: NeedLogin) -> Response:
        target = f"/login?next={exc.next_path}"
        if request.headers.get("HX-Request") == "true":
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def page_errors(request: Request, exc: StarletteHTTPException) -> Response:
        if not _is_page(request.url.path) or exc.status_code == 405:
            return await http_exception_handler(request, exc)
        response: Response = render(
            request, "error.html", None, status_code=exc.status_code, code=exc.status_code,
            detail=exc.detail,
        )  # fmt: skip
        return response

    @app.middleware("http")
    async def headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if _is_page(request.url.path):
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            if not request.url.path.startswith("/static/"):
                response.headers.setdefault("Cache-Control", "no-store")
        return response
