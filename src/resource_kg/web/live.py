"""What the server serves, and the live preview that keeps it in step with the catalog folder.

`Served` is everything one answer reads: the catalog, the snapshot of the query store the
workers answer from (`store.snapshots`), the site model (`Pages`, built on a thread) and the
validation findings per record. It is replaced whole, never changed piecemeal, so a request
sees one version from start to end.

`Watcher` (live preview, `rkg serve --watch`) listens to the kernel's change events
(inotify, through watchfiles): a saved record file is seen in milliseconds, and the load is
told which files changed, so only those are read and hashed (`store.incremental.load` with
`changed`); every other file keeps its hash from the previous version, whose decoded entries
are lent too. A change outside the record files (organizations, vocabularies, shapes,
queries, settings) loads the folder whole. The folder is also polled (names, sizes, times: a
trigger only) every 30 s as a safety net, and every 0.25 s where there are no events. The
store decides by content what changed: the records whose quads' hash differs are replaced in
the on-disk query store, record by record (`querystore.sync`; rebuilt whole when the build
context changed), and a new snapshot of it is taken; the site model is updated from the
edited records (`site.delta`) or rebuilt; the query workers open the new snapshot; and the
version is validated in a forked child at the lowest priority, stopped when the next reload
begins. A file that cannot be read as records (bad YAML, a duplicate
id) stops that load only: its error is kept for the `/errors` page, the server goes on
serving what it had, and the next load reads that file again whatever event triggers it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
import os
import resource
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from resource_kg.catalog import Catalog
from resource_kg.config import resolve_paths
from resource_kg.errors import Diagnostic, RkgError
from resource_kg.graph import QuadKey
from resource_kg.query import StoredQuery, load_queries
from resource_kg.records import RECORD_SUFFIXES
from resource_kg.store import snapshots
from resource_kg.store.querystore import changed_records
from resource_kg.store.snapshots import Snapshot
from resource_kg.validate import Finding
from resource_kg.web.checking import FORK_LOCK, Problem, Validator, validate_forked

log = logging.getLogger("resource_kg.web.live")
#: Above this many changed records the site model is rebuilt instead of updated.
DELTA_LIMIT = 2_000
#: Change events: a burst (an editor's write, rename and chmod) is one reload once it has
#: been quiet this long; with events, the folder is still polled this often as a safety net.
EVENT_STEP_MS = 30
EVENT_DEBOUNCE_MS = 400
SAFETY_POLL = 30.0
#: Seconds a version must stay current before it is validated.
VALIDATE_AFTER = 1.0


@dataclass
class Findings:
    """Validation findings and build warnings per record id (the curator view)."""

    by_record: dict[str, list[Finding]] = field(default_factory=dict)
    warnings: dict[str, list[Diagnostic]] = field(default_factory=dict)
    done: bool = False  # False while validation of this version still runs

    @classmethod
    def of(cls, catalog: Catalog, findings: list[Finding] | None) -> Findings:
        out = cls(done=findings is not None)
        for diag in catalog.diagnostics:
            out.warnings.setdefault(diag.record_id, []).append(diag)
        for finding in findings or []:
            out.by_record.setdefault(finding.id, []).append(finding)
        return out


@dataclass
class Served:
    """One version of what the server answers from (replaced whole on a reload)."""

    catalog: Catalog
    #: What the query workers answer from; None over a remote store (`rkg serve --endpoint`).
    snapshot: Snapshot | None
    pages: Future[Any]  # Future[Pages] (web.pages imports nothing from here)
    queries: dict[str, StoredQuery]
    version: int = 1
    findings: Findings = field(default_factory=Findings)
    shapes_key: tuple[tuple[str, int, str], ...] = ()

    @property
    def graphs(self) -> tuple[str, ...]:
        return tuple(g.value for g in self.catalog.graphs.all())


# ---------------------------------------------------------------- the trigger


def watched_paths(root: Path) -> list[Path]:
    """The folders and files whose change may change an answer or a page."""
    paths = resolve_paths(root)
    return [
        paths.resources,
        paths.organizations,
        paths.ontology,
        paths.shapes,
        paths.queries,
        Path(root) / "pyproject.toml",
    ]


def signature(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Every watched file's path, size and modification time (one stat each, no reads)."""
    found: list[tuple[str, int, int]] = []

    def scan(directory: str) -> None:
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue  # editors' swap and backup files
                    if entry.is_dir(follow_symlinks=False):
                        scan(entry.path)
                    elif entry.is_file():
                        st = entry.stat()
                        found.append((entry.path, st.st_size, st.st_mtime_ns))
        except OSError:
            return

    for path in watched_paths(root):
        if path.is_dir():
            scan(str(path))
        else:
            try:
                st = path.stat()
            except OSError:
                continue
            found.append((str(path), st.st_size, st.st_mtime_ns))
    found.sort()
    return tuple(found)


def changed_paths(
    before: tuple[tuple[str, int, int], ...], now: tuple[tuple[str, int, int], ...]
) -> set[str]:
    """The files that came, went or changed size or time between two signatures: what a
    poll tells the load to read (the rest are as the kernel's events left them)."""
    return {path for path, _size, _mtime in set(before) ^ set(now)}


# ---------------------------------------------------------------- the watcher


#: (folder, the previous load, the record files changed since as shown, or None: unknown).
Loader = Callable[[Path, Catalog | None, set[str] | None], Catalog]
#: The pages of a new version: (catalog, queries, the version before, the records that changed
#: as (id → quads), or None when more than records changed) → a `web.pages.Pages`.
PagesFactory = Callable[
    [Catalog, dict[str, StoredQuery], "Served | None", dict[str, list[QuadKey]] | None], object
]


def default_loader(
    root: Path, previous: Catalog | None = None, changed: set[str] | None = None
) -> Catalog:
    """The folder through the store; an earlier load lends the entries of unchanged files,
    and `changed` (from change events) spares hashing, even listing, the others."""
    from resource_kg.store import incremental

    lender = previous if isinstance(previous, incremental.StoredCatalog) else None
    if lender is not None and changed is not None:
        from resource_kg.store import delta

        made = delta.edited(lender, root, changed)
        if made is not None:
            return made
    return incremental.load(root, previous=lender, changed=changed)


def edited_records(
    catalog: Catalog, delta: tuple[list[str], list[str]] | None
) -> dict[str, list[QuadKey]] | None:
    """id → quads of the records a delta changed, when it changed records only (no record
    appeared or went): what the pages can follow without rebuilding their model."""
    if delta is None or set(delta[0]) != set(delta[1]):
        return None
    entries = getattr(catalog, "entries", {})
    return {rid: [*entries[rid].keys, *entries[rid].derived] for rid in delta[1]}


def default_validator(catalog: Catalog) -> list[Finding]:
    """Validate as `rkg validate` does, reusing its per-record cache (records whose triples did
    not change are not checked again). The catalog lock is not held: it is only for loading."""
    from resource_kg.validate import cache_file, validate

    root = catalog.paths.root
    return validate(catalog, dt.date.today(), cache=cache_file(root), workers=1).findings


class Watcher:
    """Polls the catalog folder and swaps in a new `Served` when its content changed.

    `apply` is called on the event loop with each new version; `problems` holds the errors of
    the last load (empty when it succeeded)."""

    def __init__(
        self,
        root: Path,
        served: Served,
        apply: Callable[[Served], None],
        make_pages: PagesFactory,
        *,
        interval: float = 0.25,
        loader: Loader = default_loader,
        validator: Validator | None = default_validator,
        events: bool = True,
    ) -> None:
        self.root = Path(root)
        self.current = served
        self.apply = apply
        self.make_pages = make_pages
        self.interval = interval
        self.loader = loader
        self.validator = validator
        self.problems: list[Problem] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._validating = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rkg-validate")
        self._reloading = threading.Lock()  # the poll and the events thread take turns
        #: Record files changed since the last good load (None: unknown, scan them all).
        self._pending: set[str] | None = set()
        self._events: threading.Thread | None = None
        self.events = events
        self.reloads = 0
        #: Reloads begun: a validation under way stops when one begins (it would slow the
        #: reload down, and its version is about to be replaced).
        self.reloads_begun = 0
        #: The validation child running, if any (a list shared with `checking.validate_forked`).
        self._children: list[BaseProcess] = []
        self.last_latency = 0.0  # seconds from the change seen to the new version applied

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._seen = signature(self.root)
        self._thread = threading.Thread(target=self._run, name="rkg-watch", daemon=True)
        self._thread.start()
        if self.events:
            self._events = threading.Thread(target=self._listen, name="rkg-events", daemon=True)
            self._events.start()
        self.validate_later(self.current)

    def stop(self) -> None:
        self._stop.set()
        for thread in (self._thread, self._events):
            if thread is not None:
                thread.join(timeout=5)
        self._validating.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        """Poll names, sizes and times: the trigger without change events, and with them a
        slow safety net (a network file system may not report changes)."""
        pause = self.interval
        while not self._stop.wait(pause):
            started = time.perf_counter()
            now = signature(self.root)
            # A large folder takes a while to list: poll at most a third of the time.
            pause = max(self.interval, 2 * (time.perf_counter() - started))
            if self.events:
                pause = max(pause, SAFETY_POLL)
            if now == self._seen:
                continue
            before, self._seen = self._seen, now
            self._reload_safely(self.record_files(changed_paths(before, now)))

    def _listen(self) -> None:
        """The kernel's change events (inotify, through watchfiles): a saved record file is
        seen in milliseconds and only it is read. One full reload first: an edit made while
        the watch was being set up has no event."""
        import watchfiles

        paths = [str(p.resolve()) for p in watched_paths(self.root) if p.exists()]
        first = threading.Timer(0.5, self._reload_safely, (None,))
        first.daemon = True
        first.start()
        try:
            for changes in watchfiles.watch(
                *paths,
                watch_filter=None,
                debounce=EVENT_DEBOUNCE_MS,
                step=EVENT_STEP_MS,
                stop_event=self._stop,
                rust_timeout=1000,
                raise_interrupt=False,
            ):
                # The safety poll's listing is not redone here: at 100k files it takes about
                # a second, which the next save would wait for. That poll then sees these
                # files as changed and reloads them, finding the same bytes (no new version).
                self._reload_safely(self.record_files({p for _c, p in changes}))
        except Exception:  # no inotify here (or the folder went): polling goes on
            log.exception("live preview: change events stopped; polling instead")
            self.events = False
        finally:
            first.cancel()

    def record_files(self, changed: set[str]) -> set[str] | None:
        """The changed paths as the catalog shows record files (relative to the folder), or
        None when anything else changed (vocabularies, shapes, settings: a full reload)."""
        root = self.root.resolve()
        resources = resolve_paths(self.root).resources.resolve()
        out: set[str] = set()
        for path in changed:
            full = Path(os.path.realpath(path))
            if not full.is_relative_to(resources):
                return None
            if full.suffix.lower() not in RECORD_SUFFIXES:
                if full.is_dir() or not full.suffix:
                    return None  # a folder came, went or was renamed: list them all
                # An editor's swap or backup file (.x.yaml.swp, x.yaml~): not a record file.
                # (A folder with a dot in its name moved away is seen by the next poll.)
                continue
            out.add(full.relative_to(root).as_posix())
        return out

    def _reload_safely(self, changed: set[str] | None) -> None:
        """Reload, told which record files changed since the last good load: the files of
        every event since then (a load that failed, on bad YAML say, read them in vain)."""
        with self._reloading:
            if changed is not None and not changed and not self._pending and not self.problems:
                return  # only files that are not records (an editor's swap file) changed
            if changed is None or self._pending is None:
                self._pending = None
            else:
                self._pending |= changed
            self.reloads_begun += 1  # no validation of the version before starts from now on
            self.stop_validation()
            applied = False
            try:
                applied = self.reload(None if self._pending is None else set(self._pending))
            except Exception:  # the watcher must outlive any one bad load
                log.exception("live preview: reload failed")
                return
            finally:
                if not applied and not self.current.findings.done and not self._stop.is_set():
                    self.validate_later(self.current)  # it was stopped in vain: again
            if not self.problems:
                self._pending = set()

    def stop_validation(self) -> None:
        """Kill a validation child under way and wait for it to end, before a reload writes
        to memory the child shares: pages the child still maps are copied on each first write
        (200k page faults, about half a second, at 100k resources), pages it no longer maps
        are not."""
        with FORK_LOCK:  # no validation is forked meanwhile (it checks `reloads_begun`)
            for child in list(self._children):
                if child.is_alive():
                    child.kill()
                child.join(timeout=2)

    def reload(self, changed: set[str] | None = None) -> bool:
        """Load the folder again; True when a new version was applied.

        The cyclic garbage collector is paused meanwhile and what survives is frozen
        (`gc.freeze`): a full collection walks every object of the loaded catalog (seconds at
        100k resources) and, by writing to each, copies the memory a forked validation shares."""
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._reload(changed)
        finally:
            gc.freeze()
            if enabled:
                gc.enable()

    def _reload(self, changed: set[str] | None) -> bool:
        started = time.perf_counter()
        cpu = time.thread_time()
        faults = _minor_faults()
        old = self.current
        try:
            catalog = self.loader(self.root, old.catalog, changed)
            loaded = time.perf_counter()
            queries = load_queries(catalog.paths.queries)
        except RkgError as exc:
            self.problems = [Problem(exc.message, exc.file, exc.line, type(exc).__name__)]
            self._notify(None)
            return False
        had_problems = bool(self.problems)
        self.problems = []
        delta = changed_records(old.catalog, catalog)
        same_queries = {n: q.text for n, q in queries.items()} == {
            n: q.text for n, q in old.queries.items()
        }
        shapes_now = shapes_key(catalog)
        shapes_changed = shapes_now != old.shapes_key
        if (
            delta is not None
            and not delta[0]
            and not delta[1]
            and same_queries
            and not shapes_changed
            and catalog.diagnostics == old.catalog.diagnostics
        ):
            if had_problems:
                self._notify(None)
            return False  # touched, not changed: the store decides by content
        with FORK_LOCK:
            snapshot = snapshots.take(catalog, old.catalog)
        stored = time.perf_counter()
        pages: Future[Any] = Future()
        small = delta is not None and len(delta[0]) + len(delta[1]) <= DELTA_LIMIT
        edited = edited_records(catalog, delta) if small else None
        try:
            pages.set_result(self.make_pages(catalog, queries, old, edited))
        except BaseException:
            snapshot.discard()
            raise
        paged = time.perf_counter()
        served = Served(
            catalog,
            snapshot,
            pages,
            queries,
            old.version + 1,
            Findings.of(catalog, None),
            shapes_now,
        )
        self.current = served
        self._notify(served)
        self.reloads += 1
        self.last_latency = time.perf_counter() - started
        log.info(
            "live preview: version %d in %.0f ms (%s, %s; load %.0f, store %.0f, pages %.0f ms; "
            "CPU %.0f ms, %d page faults)",
            served.version,
            self.last_latency * 1000,
            f"store {snapshot.done}",
            "folder scanned" if changed is None else f"told of {len(changed)} file(s)",
            (loaded - started) * 1000,
            (stored - loaded) * 1000,
            (paged - stored) * 1000,
            (time.thread_time() - cpu) * 1000,
            _minor_faults() - faults,
        )
        if not self._stop.is_set():
            self.validate_later(served)
        return True

    def validate_later(self, served: Served) -> None:
        """Validate this version in a forked process; its findings replace the version's when
        done. The process takes no time from the server's own thread (at 100k resources a
        validation is ~15 s of Python), and is stopped as soon as a reload begins (and run
        again if that reload brings no new version), so edits in a row are validated once, at
        the last, and no validation copies the server's memory while a reload runs."""
        if self.validator is None:
            served.findings = Findings.of(served.catalog, [])
            served.findings.done = False
            return
        validator = self.validator

        begun = self.reloads_begun

        def superseded() -> bool:
            return served is not self.current or self.reloads_begun != begun or self._stop.is_set()

        def work() -> None:
            # A quiet moment first: a curator saving again and again gets each version served
            # at once and validated when the saves pause (the fork and the child's CPU would
            # slow the next reload down).
            if self._stop.wait(VALIDATE_AFTER) or superseded():
                return  # superseded before its turn came
            outcome = validate_forked(validator, served.catalog, superseded, self._children)
            if outcome is None:
                return
            if isinstance(outcome, Problem):
                self.problems = [outcome]
                self._notify(None)
                return
            served.findings = Findings.of(served.catalog, outcome)

        self._validating.submit(work)

    def _notify(self, served: Served | None) -> None:
        if self.loop is None:
            return
        done = threading.Event()

        def run() -> None:
            try:
                if served is not None:
                    self.apply(served)
            finally:
                done.set()

        self.loop.call_soon_threadsafe(run)
        done.wait(timeout=30)


def _minor_faults() -> int:
    """This thread's minor page faults so far: mostly copies of pages it shares with a forked
    validation child (a reload that touches much of the old catalog copies it). 0 where the system
    counts them per process only (RUSAGE_THREAD is Linux's): a figure for the log, nothing more."""
    who = getattr(resource, "RUSAGE_THREAD", None)
    return 0 if who is None else resource.getrusage(who).ru_minflt


def shapes_key(catalog: Catalog) -> tuple[tuple[str, int, str], ...]:
    """The shapes files by content (validation is redone when they change)."""
    from resource_kg.store.fingerprint import hash_bytes

    folder = catalog.paths.shapes
    out = []
    for path in sorted(folder.glob("*.ttl")) if folder.is_dir() else []:
        data = path.read_bytes()
        out.append((path.name, len(data), hash_bytes(data)))
    return tuple(out)
