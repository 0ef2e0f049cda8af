"""The server's own pages beside the site's: stored questions (list, forms, API, OpenAPI and
its docs page) and the curator view of the live preview (findings on resource pages, /errors,
the reload-on-change script), with what they add to the site's pages (`decorate`).

`Views` reads everything through callables of the app (`current`, `site_pages`, `problems`),
so it always answers from the version being served (see `web.live`).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from resource_kg import site
from resource_kg.commands.query import render
from resource_kg.errors import QueryError, RkgError
from resource_kg.query import (
    Result,
    StoredQuery,
    bind,
    find_query,
    resolve_params,
    resource_finder,
)
from resource_kg.web import questions, sparql
from resource_kg.web.checking import Problem
from resource_kg.web.live import Served
from resource_kg.web.pages import Pages
from resource_kg.web.store import QueryStore


class AnswerCache:
    """Recent answers by (served version, bound query text): the same question asked again
    of the same data is not run again. A new version (an edit) makes new keys; the oldest
    answers go first once their JSON passes `max_bytes`; a large answer is never kept."""

    def __init__(self, max_bytes: int = 64 << 20, max_one: int = 4 << 20) -> None:
        self.max_bytes = max_bytes
        self.max_one = max_one
        self._kept: OrderedDict[tuple[int, str], tuple[Result, int]] = OrderedDict()
        self._bytes = 0
        self.hits = 0

    def get(self, key: tuple[int, str]) -> Result | None:
        found = self._kept.get(key)
        if found is None:
            return None
        self._kept.move_to_end(key)
        self.hits += 1
        return found[0]

    def put(self, key: tuple[int, str], result: Result, size: int) -> None:
        if size > self.max_one or key in self._kept:
            return
        self._kept[key] = (result, size)
        self._bytes += size
        while self._bytes > self.max_bytes:
            _, (_, gone) = self._kept.popitem(last=False)
            self._bytes -= gone


def root_url(request: Request) -> str:
    return str(request.base_url)


@dataclass
class Views:
    """The handlers of the questions and of the curator view, over the app's state."""

    current: Callable[[], Served]
    site_pages: Callable[[], Awaitable[Pages]]
    problems: Callable[[], list[Problem]]
    pool: QueryStore
    max_rows: int
    curator: bool
    answers: AnswerCache = field(default_factory=lambda: AnswerCache())

    def routes(self) -> list[Route]:
        return [
            Route("/queries", self.queries_list),
            Route("/queries/{name}", self.question),
            Route("/openapi.json", self.openapi_json),
            Route("/api", self.api_docs),
            Route("/errors", self.errors_page),
            Route("/_live", self.live_state),
        ]

    def live_version(self) -> str:
        now = self.current()
        problems = self.problems()
        seen = "|".join(f"{p.location()} {p.message}" for p in problems)
        return f"{now.version}-{int(now.findings.done)}-{len(problems)}-{abs(hash(seen)) % 10**8}"

    def decorate(self, html: str, request: Request, record: str | None = None) -> str:
        """Server additions to a page: the questions in the menu; in the curator view, the
        record's findings, a note when a file has an error, and the reload-on-change script."""
        base_url = root_url(request)
        html = html.replace(
            "</nav></header>",
            f'<a class="serve-only" href="{base_url}queries">Stored questions</a>'
            f'<a class="serve-only" href="{base_url}sparql">SPARQL</a></nav></header>',
            1,
        )
        if not self.curator:
            return html
        extra = []
        problems = self.problems()
        if problems:
            where = ", ".join(site.e(p.location() or p.kind) for p in problems)
            extra.append(
                f'<p class="curator-alert serve-only" role="status">A file cannot be read ({where}): '
                f'this preview still shows the last good version. <a href="{base_url}errors">'
                "See the errors</a>.</p>"
            )
        if record is not None:
            extra.append(self.findings_html(record))
        script = (
            f'<script class="serve-only" src="{base_url}assets/live.js" data-live="{base_url}_live" '
            f'data-version="{site.e(self.live_version())}"></script>'
        )
        head, sep, tail = html.rpartition("</main>")
        if sep:
            html = head + "".join(extra) + sep + tail
        return html.replace("</body>", script + "</body>", 1)

    def findings_html(self, record: str) -> str:
        now = self.current()
        found = now.findings.by_record.get(record, [])
        warned = now.findings.warnings.get(record, [])
        items = [
            f'<li class="finding sev-{site.e(f.severity.lower())}"><strong>{site.e(f.severity)}</strong> '
            f'<code class="where">{site.e(f.file)}:{f.line}</code> '
            f"{site.e(f.field or '(record)')}: {site.e(f.message)}</li>"
            for f in found
        ]
        items += [
            f'<li class="finding sev-build"><strong>Build warning</strong> '
            f'<code class="where">{site.e(d.file)}:{d.line}</code> '
            f"{site.e(d.field or '(record)')}: {site.e(d.message)}</li>"
            for d in warned
        ]
        if not now.findings.done:
            status = "Validation of this version is running; this page reloads when it is done."
        elif not items:
            status = "No validation finding for this record."
        else:
            status = f"{len(items)} finding(s) for this record."
        return (
            '<section class="curator serve-only" id="findings" aria-labelledby="findings-heading">'
            '<h2 id="findings-heading">Validation findings (curator view)</h2>'
            f'<p>{status}</p><ul class="findings">{"".join(items)}</ul></section>'
        )

    def html_response(self, html: str, status: int = 200) -> Response:
        return Response(html, status_code=status, media_type="text/html; charset=utf-8")

    async def live_state(self, _request: Request) -> Response:
        if not self.curator:
            return PlainTextResponse("the curator view is off (rkg serve --public)\n", 404)
        problems = self.problems()
        return JSONResponse(
            {"version": self.live_version(), "errors": len(problems)},
            headers={"cache-control": "no-store"},
        )

    async def errors_page(self, request: Request) -> Response:
        if not self.curator:
            return PlainTextResponse("the curator view is off (rkg serve --public)\n", 404)
        pages = await self.site_pages()
        problems = self.problems()
        now = self.current()
        if problems:
            items = "".join(
                f'<li class="problem-item"><code class="where">{site.e(p.location() or "(no file)")}</code> '
                f'{site.e(p.message)} <span class="muted">({site.e(p.kind)})</span></li>'
                for p in problems
            )
            body = (
                "<h1>Errors</h1><p>These files cannot be read as they are. Every page and "
                f"answer keeps serving the last good version (version {now.version}) until "
                f'they are fixed and saved.</p><ul id="errors">{items}</ul>'
            )
        else:
            body = (
                '<h1>Errors</h1><p id="no-errors">No file has an error: every page and answer '
                f"shows the catalog as saved (version {now.version}).</p>"
            )
        counts = sum(len(v) for v in now.findings.by_record.values())
        body += (
            f"<p>{counts} validation finding(s) and "
            f"{len(now.catalog.diagnostics)} build warning(s) in the served version; each "
            "resource page lists its own.</p>"
        )
        html = pages.chrome("errors", root_url(request), "Errors", body)
        return self.html_response(self.decorate(html, request))

    def api_error(self, exc: RkgError, name: str, status: int = 400) -> Response:
        message = exc.message if isinstance(exc.message, str) else str(exc)
        return JSONResponse(
            {
                "error": message,
                "query": name,
                "parameter": questions.parameter_of(message),
                "closest": questions.closest_labels(message),
            },
            status_code=getattr(exc, "status", status),
        )

    async def answer(
        self, now: Served, query: StoredQuery, given: dict[str, str]
    ) -> tuple[Result, str, float]:
        """Resolve, bind (as RDF terms, never pasted text) and run one stored question."""
        started = time.perf_counter()
        engine = self.pool.engine(now.catalog.graphs, str(query.path))
        # Off the event loop: a resource look-up may be a request to a remote store.
        values = await asyncio.to_thread(
            resolve_params, query, given, now.catalog.lexicon, resource_finder(engine)
        )
        limits = [p.name for p in query.params if p.kind == "limit"]
        text = bind(query.text, values, limits)
        job = sparql.Job(
            text, "application/sparql-results+json", max_rows=self.max_rows, union=True
        )
        key = (now.version, text)
        result = self.answers.get(key)
        if result is None:
            outcome = await self.pool.run(job)
            if outcome.status != 200:
                raise sparql.ProtocolError(outcome.body.decode("utf-8", "replace"), outcome.status)
            result = questions.result_from_json(json.loads(outcome.body))
            self.answers.put(key, result, len(outcome.body))
        return result, text, (time.perf_counter() - started) * 1000

    async def queries_list(self, request: Request) -> Response:
        pages = await self.site_pages()
        body = questions.list_page(self.current().queries)
        html = pages.chrome("queries", root_url(request), "Stored questions", body)
        return self.html_response(self.decorate(html, request))

    async def question(self, request: Request) -> Response:
        raw: str = request.path_params["name"]
        suffix = next((x for x in questions.API_SUFFIXES if raw.endswith(x)), "")
        name = raw[: len(raw) - len(suffix)] if suffix else raw
        now = self.current()
        pairs = parse_qsl(request.url.query, keep_blank_values=True)
        try:
            query = find_query(now.queries, name)
        except QueryError as exc:
            if suffix:
                return self.api_error(exc, name, 404)
            pages = await self.site_pages()
            body = f"<h1>No such question</h1><p>{site.e(exc.message)}</p>"
            body += '<p><a href="../queries">All stored questions</a></p>'
            html = pages.chrome("queries/" + name, root_url(request), "No such question", body)
            return self.html_response(self.decorate(html, request), 404)
        error: str | None = None
        try:
            given = questions.given_params(query, pairs)
        except QueryError as exc:
            if suffix:
                return self.api_error(exc, name)
            given, error = {}, exc.message
        if suffix:
            try:
                result, _text, millis = await self.answer(now, query, given)
            except sparql.ProtocolError as exc:
                if exc.status == 400:
                    return self.api_error(exc, name)
                raise
            except QueryError as exc:
                return self.api_error(exc, name)
            fmt = suffix[1:]
            media = questions.API_SUFFIXES[suffix]
            headers = {"server-timing": f"answer;dur={millis:.1f}"}
            if fmt != "json":
                headers["content-disposition"] = f'inline; filename="{name}.{fmt}"'
            return Response(
                render(result, fmt), media_type=media + "; charset=utf-8", headers=headers
            )
        pages = await self.site_pages()
        answered, status = "", 200
        run = bool(given) or any(k == "run" for k, _ in pairs)
        millis = 0.0
        if run and error is None:
            try:
                result, text, millis = await self.answer(now, query, given)
            except QueryError as exc:
                if getattr(exc, "status", 400) != 400:
                    raise
                error = exc.message
            else:
                answered = questions.answer_html(
                    pages, query, given, result, text, root_url(request), millis
                )
        if error is not None:
            status = 400
        body = questions.form_page(pages, query, given, answer=answered, error=error)
        html = pages.chrome("queries/" + query.name, root_url(request), query.title, body)
        headers = {"server-timing": f"answer;dur={millis:.1f}"} if answered else {}
        return Response(
            self.decorate(html, request),
            status_code=status,
            media_type="text/html; charset=utf-8",
            headers=headers,
        )

    def title_of(self) -> str:
        return self.current().catalog.settings.title

    async def openapi_json(self, request: Request) -> Response:
        pages = await self.site_pages()
        doc = questions.openapi(pages, self.current().queries, root_url(request), self.title_of())
        return JSONResponse(doc, headers={"access-control-allow-origin": "*"})

    async def api_docs(self, request: Request) -> Response:
        pages = await self.site_pages()
        doc = questions.openapi(pages, self.current().queries, root_url(request), self.title_of())

        def example(path: str, params: list[dict[str, Any]]) -> str:
            found = questions.example_params(params)
            return path.lstrip("/") + (f"?{urlencode(found)}" if found else "")

        body = questions.docs_page(doc, example)
        html = pages.chrome("api", root_url(request), "API of the stored questions", body)
        return self.html_response(self.decorate(html, request))
