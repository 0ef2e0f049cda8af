"""HTTP for remote stores: credentials (Bearer, Basic, Digest) and one request with clear errors."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import os
import socket
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Literal

from resource_kg.errors import EndpointError

ENV_TOKEN = "RKG_ENDPOINT_TOKEN"
ENV_USER = "RKG_ENDPOINT_USER"
ENV_PASSWORD = "RKG_ENDPOINT_PASSWORD"
ENV_AUTH = "RKG_ENDPOINT_AUTH"
DEFAULT_TIMEOUT = 60.0


# ---------------------------------------------------------------- credentials


class HttpAuth:
    """Bearer token, or user and password sent as Basic or (once challenged) Digest."""

    def __init__(
        self,
        token: str | None = None,
        user: str | None = None,
        password: str = "",
        scheme: Literal["auto", "basic", "digest"] = "auto",
    ) -> None:
        self.token = token or None
        self.user = user or None
        self.password = password
        self.scheme = scheme
        self._challenge: dict[str, str] | None = None
        self._nc = 0
        self._asked = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HttpAuth:
        env = os.environ if environ is None else environ
        scheme = env.get(ENV_AUTH, "auto").strip().lower() or "auto"
        if scheme not in ("auto", "basic", "digest"):
            raise EndpointError(f"{ENV_AUTH} must be basic or digest, not {scheme!r}")
        return cls(
            env.get(ENV_TOKEN),
            env.get(ENV_USER),
            env.get(ENV_PASSWORD, ""),
            scheme,  # type: ignore[arg-type]
        )

    @property
    def has_credentials(self) -> bool:
        return bool(self.token or self.user)

    @property
    def label(self) -> str:
        if self.token:
            return "bearer token"
        if self._challenge is not None or self.scheme == "digest":
            return f"Digest login of user {self.user!r}"
        return f"Basic login of user {self.user!r}"

    def header(self, method: str, url: str) -> str | None:
        """The Authorization header for one request, if any can be sent yet."""
        if self.token:
            return f"Bearer {self.token}"
        if not self.user:
            return None
        if self._challenge is not None:
            return self._digest(method, url)
        if self.scheme == "digest" or self._asked:
            return None  # the first request fetches the challenge
        pair = f"{self.user}:{self.password}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    def learn(self, challenges: Iterable[str]) -> bool:
        """Take a 401's WWW-Authenticate headers; True when a retry can now succeed."""
        if self.token or not self.user or self.scheme == "basic":
            return False
        challenges = list(challenges)
        if not challenges and self._challenge is None and not self._asked:
            # Basic refused without a challenge (Virtuoso): ask once with no login for one.
            self._asked = True
            return True
        for text in challenges:
            scheme, _, rest = text.strip().partition(" ")
            if scheme.lower() != "digest":
                continue
            params = urllib.request.parse_keqv_list(urllib.request.parse_http_list(rest))
            fresh = self._challenge is None or params.get("stale", "").lower() == "true"
            self._challenge, self._nc = params, 0
            return fresh
        return False

    def _digest(self, method: str, url: str) -> str:
        c = self._challenge or {}
        parts = urllib.parse.urlsplit(url)
        uri = parts.path + (f"?{parts.query}" if parts.query else "")
        realm, nonce = c.get("realm", ""), c.get("nonce", "")
        algorithm = c.get("algorithm", "MD5")
        self._nc += 1
        nc, cnonce = f"{self._nc:08x}", os.urandom(8).hex()

        def h(text: str) -> str:
            return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()

        ha1 = h(f"{self.user}:{realm}:{self.password}")
        if algorithm.upper() == "MD5-SESS":
            ha1 = h(f"{ha1}:{nonce}:{cnonce}")
        ha2 = h(f"{method}:{uri}")
        qops = [q.strip() for q in c.get("qop", "").split(",") if q.strip()]
        fields = [
            f'username="{self.user}"',
            f'realm="{realm}"',
            f'nonce="{nonce}"',
            f'uri="{uri}"',
            f"algorithm={algorithm}",
        ]
        if "auth" in qops:
            digest = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
            fields += ["qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
        else:
            digest = h(f"{ha1}:{nonce}:{ha2}")
        fields.append(f'response="{digest}"')
        if "opaque" in c:
            fields.append(f'opaque="{c["opaque"]}"')
        return "Digest " + ", ".join(fields)


def auth_header(environ: Mapping[str, str] | None = None) -> str | None:
    """The Authorization header the environment asks for before any challenge, if any."""
    return HttpAuth.from_env(environ).header("POST", "/")


# ---------------------------------------------------------------- plain HTTP


class AnswerTooLarge(EndpointError):
    """The answer passed the `max_bytes` the caller reads (not read further)."""


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def http_request(
    method: str,
    url: str,
    what: str,
    *,
    body: bytes | IO[bytes] | None = None,
    headers: Mapping[str, str] | None = None,
    auth: HttpAuth | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    ok: Iterable[int] = (200, 201, 204),
    max_bytes: int | None = None,
) -> Answer:
    """One request, retried once after a Digest challenge; any other status is an error.

    `max_bytes` bounds the answer's body: a longer one is an error, read no further."""
    answer = _send(method, url, what, body, headers, auth, timeout, max_bytes)
    for _ in range(3):
        if answer.status != 401 or auth is None:
            break
        if not auth.learn(answer.headers.get_all("WWW-Authenticate") or []):
            break
        answer = _send(method, url, what, body, headers, auth, timeout, max_bytes)
    if answer.status in set(ok):
        return answer
    raise EndpointError(status_message(what, answer, auth))


def status_message(what: str, answer: Answer, auth: HttpAuth | None) -> str:
    if answer.status == 401:
        if auth is None or not auth.has_credentials:
            return (
                f"{what} asks for a login (HTTP 401): set {ENV_USER} and {ENV_PASSWORD}, "
                f"or {ENV_TOKEN}"
            )
        return f"{what} refused the {auth.label} (HTTP 401): wrong user, password or token"
    if answer.status == 403:
        who = auth.label if auth is not None and auth.has_credentials else "an anonymous client"
        return f"{what} forbids this to the {who} (HTTP 403): the login may not write there"
    return f"{what} answered HTTP {answer.status}: {snippet(answer.body)}"


def _send(
    method: str,
    url: str,
    what: str,
    body: bytes | IO[bytes] | None,
    headers: Mapping[str, str] | None,
    auth: HttpAuth | None,
    timeout: float,
    max_bytes: int | None = None,
) -> Answer:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointError(f"{what}: {url} is not an http(s) URL")
    sent = dict(headers or {})
    if isinstance(body, bytes):
        sent["Content-Length"] = str(len(body))
    elif body is not None:  # a file: sent from its start, again on a retry
        sent["Content-Length"] = str(body.seek(0, os.SEEK_END))
        body.seek(0)
    value = auth.header(method, url) if auth is not None else None
    if value:
        sent["Authorization"] = value
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    conn = conn_class(parts.hostname, parts.port, timeout=timeout)
    # A total deadline, except for a file body (a whole graph being uploaded: each read and
    # write is still bounded by the socket timeout).
    deadline = Deadline(timeout) if body is None or isinstance(body, bytes) else None
    try:
        try:
            conn.connect()
            if deadline is not None:
                deadline.watch(conn.sock)
            conn.request(method, path, body=body, headers=sent)
        except (BrokenPipeError, ConnectionResetError) as exc:
            # The store answered before it read the body (Virtuoso does so with a 401):
            # its answer may still be there to read.
            try:
                response = conn.getresponse()
            except (OSError, http.client.HTTPException):
                raise EndpointError(
                    f"{what} closed the connection before the request was sent ({exc}); "
                    "if it needs a login, set the credentials"
                ) from exc
        else:
            response = conn.getresponse()
        data = response.read() if max_bytes is None else response.read(max_bytes + 1)
        if deadline is not None and deadline.expired:
            raise TimeoutError
        if max_bytes is not None and len(data) > max_bytes:
            raise AnswerTooLarge(f"{what} sent an answer of more than {max_bytes} bytes")
        return Answer(response.status, response.headers, data)
    except TimeoutError as exc:
        raise EndpointError(f"{what} did not answer within {timeout:g} s") from exc
    except (OSError, http.client.HTTPException) as exc:
        if deadline is not None and deadline.expired:
            raise EndpointError(f"{what} did not answer within {timeout:g} s") from exc
        if isinstance(exc, OSError):
            raise EndpointError(f"{what} {reason(exc)}") from exc
        raise EndpointError(
            f"{what} closed the connection without an answer ({type(exc).__name__}): "
            "did the store stop?"
        ) from exc
    finally:
        if deadline is not None:
            deadline.cancel()
        conn.close()


def check_http_url(url: str, what: str) -> None:
    """Only http(s) URLs with a host: a `file:` or `ftp:` URL is refused before any request."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise EndpointError(f"{what}: {url!r} is not an http(s) URL")


class Deadline:
    """A total time limit on one exchange: when it passes, the socket is shut down.

    A socket timeout bounds each read alone, so a server sending one byte a second never
    trips it; shutting the socket down from a timer ends any read at once (the reader then
    sees the end of the stream, and `expired` says why)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self._sock: socket.socket | None = None
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket | None) -> None:
        self._sock = sock
        if self.expired:
            self._expire()

    def left(self) -> float:
        return max(0.001, self.end - time.monotonic())

    def _expire(self) -> None:
        self.expired = True
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


@dataclass
class Stream:
    """An answer whose body is read as it arrives (`body`), under the exchange's deadline."""

    status: int
    headers: http.client.HTTPMessage
    body: http.client.HTTPResponse
    deadline: Deadline

    def head(self, limit: int = 4096) -> bytes:
        """The first bytes of the body (for an error message), never the whole of it."""
        try:
            return self.body.read(limit)
        except (OSError, http.client.HTTPException):
            return b""


@contextlib.contextmanager
def http_stream(
    method: str,
    url: str,
    what: str,
    *,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,
    limit: float | None = None,
) -> Iterator[Stream]:
    """One request whose answer is streamed; `timeout` is a total deadline (connect to last byte).

    Connection failures, a garbage status line and the deadline become one EndpointError;
    errors raised while the caller reads the body are the caller's to word (see `Deadline`).
    `limit` is the time limit messages name (the run's, when `timeout` is what is left of it)."""
    late = f"{what} did not answer within {timeout if limit is None else limit:g} s"
    check_http_url(url, what)
    parts = urllib.parse.urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    deadline = Deadline(timeout)
    conn = conn_class(parts.hostname or "", parts.port, timeout=timeout)
    try:
        try:
            conn.connect()
            deadline.watch(conn.sock)
            conn.request(
                method, path, body=body, headers={**headers, "Content-Length": str(len(body))}
            )
            response = conn.getresponse()
        except TimeoutError as exc:
            raise EndpointError(late) from exc
        except http.client.HTTPException as exc:
            if deadline.expired:
                raise EndpointError(late) from exc
            kind = type(exc).__name__
            detail = "a garbage status line" if kind == "BadStatusLine" else kind
            raise EndpointError(
                f"{what} did not answer in HTTP ({detail}: {snippet(str(exc))})"
            ) from exc
        except OSError as exc:
            if deadline.expired:
                raise EndpointError(late) from exc
            raise EndpointError(f"{what} {reason(exc)}") from exc
        yield Stream(response.status, response.headers, response, deadline)
    finally:
        deadline.cancel()
        conn.close()


def reason(reason: object) -> str:
    if isinstance(reason, TimeoutError | socket.timeout):
        return "did not answer in time"
    if isinstance(reason, ConnectionRefusedError):
        return "refused the connection (is the server running?)"
    if isinstance(reason, socket.gaierror):
        return f"cannot be resolved: {reason}"
    return f"cannot be reached: {reason}"


def snippet(data: bytes | str, limit: int = 200) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    text = " ".join(text.split())
    return text[:limit] + ("…" if len(text) > limit else "")


class StaticAuth(HttpAuth):
    """A fixed Authorization header (as `Endpoint.authorization` gives it)."""

    def __init__(self, value: str) -> None:
        super().__init__()
        self.value = value

    @property
    def has_credentials(self) -> bool:
        return True

    @property
    def label(self) -> str:
        return "credentials"

    def header(self, method: str, url: str) -> str | None:
        return self.value

    def learn(self, challenges: Iterable[str]) -> bool:
        return False
