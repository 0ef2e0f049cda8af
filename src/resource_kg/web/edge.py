"""The edge of `rkg serve`'s ASGI app: security headers, the access log, the start-up gate,
the one error shape, and the safety settings; what every request passes through."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import Future
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

log = logging.getLogger("resource_kg.web.access")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
CORS = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, POST, OPTIONS",
    "access-control-allow-headers": "Accept, Content-Type",
    "access-control-max-age": "600",
}
CORS_PATHS = ("/sparql", "/store")


class ServeSettings:
    """The safety settings of one app (time limit, caps, SERVICE hosts)."""

    def __init__(
        self, timeout: float, max_rows: int, max_body: int, allow_service: tuple[str, ...]
    ) -> None:
        self.timeout = timeout
        self.max_rows = max_rows
        self.max_body = max_body
        self.allow_service = tuple(h.lower() for h in allow_service)


class Edge:
    """ASGI middleware: nosniff everywhere, CSP on HTML, CORS on /sparql and /store, one
    access-log line per request (method, path, status, bytes, milliseconds)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 0, "bytes": 0}
        cors = scope["path"] in CORS_PATHS

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                headers = [(k, v) for k, v in message.get("headers", [])]
                names = {k.lower() for k, _ in headers}
                headers.append((b"x-content-type-options", b"nosniff"))
                ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if ctype.startswith(b"text/html") and b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", CSP.encode()))
                    headers.append((b"referrer-policy", b"no-referrer"))
                if cors:
                    headers += [(k.encode(), v.encode()) for k, v in CORS.items()]
                message["headers"] = headers
            elif message["type"] == "http.response.body":
                state["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, wrapped)
        finally:
            client = scope.get("client") or ("-", 0)
            target = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
            if scope.get("query_string"):
                target += "?" + scope["query_string"].decode("latin-1")
            if len(target) > 300:
                target = target[:300] + "…"
            log.info(
                '%s "%s %s HTTP/%s" %d %d %.1fms',
                client[0],
                scope["method"],
                target,
                scope.get("http_version", "1.1"),
                state["status"],
                state["bytes"],
                (time.perf_counter() - started) * 1000,
            )


class Gate:
    """ASGI middleware: until the first version is served (the catalog loaded on a thread),
    every request but /sparql waits for it; one that cannot be loaded is a 503 naming why."""

    OPEN = ("/sparql",)

    def __init__(self, app: ASGIApp, ready: Callable[[], bool], loaded: Future[Any]) -> None:
        self.app = app
        self.ready = ready
        self.loaded = loaded

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in self.OPEN:
            while not self.ready():
                if self.loaded.done() and self.loaded.exception() is not None:
                    exc = self.loaded.exception()
                    answer = PlainTextResponse(
                        f"the catalog could not be loaded: {exc}\n", status_code=503
                    )
                    await answer(scope, receive, send)
                    return
                await asyncio.sleep(0.05)
        await self.app(scope, receive, send)


def root_url(request: Request) -> str:
    return str(request.base_url)


def problem(exc: Exception) -> Response:
    """The one error shape: a plain-text message and the status the error carries."""
    status = getattr(exc, "status", 400)
    return PlainTextResponse(str(exc).rstrip("\n") + "\n", status_code=status)


def give_back_memory() -> None:
    """Return the C heap's free pages to the system (glibc's `malloc_trim`): a load's
    temporaries leave ≈ 400 MB free but mapped at 100k resources, counted in the server's RSS
    for as long as it runs. Nothing where the C library has no such call."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)
