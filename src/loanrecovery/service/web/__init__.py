"""The web pages of the service (issue 13): server-rendered Jinja2 templates, HTMX for
partial updates (vendored in ``static/``; nothing is fetched from outside), log-in with a
password and a session cookie, CSRF tokens on every form, roles checked on every page.
docs/web.md describes them."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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

    app.add_middleware(PageHeaders)


class PageHeaders:
    """ASGI middleware: the pages' security headers (content security policy, no sniffing,
    same-origin referrer, no caching but for static files), set unless the page set them.

    A plain ASGI wrapper rather than ``@app.middleware("http")`` (Starlette's
    ``BaseHTTPMiddleware``, which runs every request, API calls included, through extra tasks
    and streams)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not _is_page(path):
            await self.app(scope, receive, send)
            return
        wanted = [
            (b"content-security-policy", CSP.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]
        if not path.startswith("/static/"):
            wanted.append((b"cache-control", b"no-store"))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in wanted if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
