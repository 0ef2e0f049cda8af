"""Where a catalog's store lives, the lock that serializes `rkg` runs on it, and its database.

The store of a catalog folder lives in the user's cache folder, not in the catalog: a catalog
someone hands you carries no cache to trust. `RKG_CACHE_DIR` overrides the cache folder (tests
and CI set it); otherwise `$XDG_CACHE_HOME/resource-kg`, else `~/.cache/resource-kg`. Each
catalog folder gets a subfolder named after it and a hash of its absolute path.

Everything kept is data: one SQLite database (record entries as JSON, validation results,
what the on-disk query store holds, the serialized blocks of the dumps per record file) and
one pyoxigraph on-disk store. SQLite commits are
atomic, so a run killed at any moment leaves the database as before or after its transaction;
the query store carries a "clean" mark in the database that is cleared before it is touched
and set again only after it is flushed, so a store killed mid-update is rebuilt, never used.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gc
import hashlib
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

#: Seconds a run waits for another run's lock before it says that it is waiting.
WAIT_MESSAGE_AFTER = 2.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, sha TEXT NOT NULL, entries TEXT NOT NULL);
-- The quick paths read every (path, sha) first: from this index, not the pages of the entries.
CREATE INDEX IF NOT EXISTS files_hashes ON files (path, sha);
CREATE TABLE IF NOT EXISTS validation (key TEXT PRIMARY KEY, context TEXT NOT NULL, results TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS store_records (id TEXT PRIMARY KEY, digest TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS file_stats (
  path TEXT PRIMARY KEY, size INTEGER, mtime INTEGER, ctime INTEGER, ino INTEGER, dev INTEGER,
  sha TEXT NOT NULL, hashed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, used INTEGER NOT NULL, hits INTEGER NOT NULL, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS dump_files (
  path TEXT PRIMARY KEY, sha TEXT NOT NULL, ids TEXT NOT NULL, diagnostics TEXT NOT NULL,
  pairs TEXT NOT NULL, subjects TEXT NOT NULL, quads INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS trig_blocks (
  graph TEXT NOT NULL, subject TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY (graph, subject)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS record_checks (
  path TEXT PRIMARY KEY, sha TEXT NOT NULL, ids TEXT NOT NULL, findings TEXT NOT NULL,
  focus TEXT NOT NULL, outside TEXT NOT NULL, whole TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ttl_blocks (subject TEXT PRIMARY KEY, body BLOB NOT NULL) WITHOUT ROWID;
"""


def cache_root() -> Path:
    """The folder holding the stores of all catalog folders."""
    env = os.environ.get("RKG_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "resource-kg"


def store_dir(root: Path | str) -> Path:
    """The store folder of one catalog folder (not created here)."""
    real = Path(root).resolve()
    tag = hashlib.sha256(str(real).encode()).hexdigest()[:16]
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in real.name)[:40] or "root"
    return cache_root() / f"{name}-{tag}"


_HELD: dict[str, int] = {}


@contextlib.contextmanager
def locked(root: Path | str, notify: Callable[[str], None] | None = None) -> Iterator[Path]:
    """Hold the catalog's lock (re-entrant within a process); yields the store folder.

    A second `rkg` process on the same catalog waits here; after `WAIT_MESSAGE_AFTER` seconds
    it says so once (to stderr unless `notify` is given) and goes on waiting."""
    folder = store_dir(root)
    key = str(folder)
    if _HELD.get(key):
        _HELD[key] += 1
        try:
            yield folder
        finally:
            _HELD[key] -= 1
        return
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        start = time.monotonic()
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if not told and time.monotonic() - start >= WAIT_MESSAGE_AFTER:
                message = f"waiting for another rkg run on {Path(root)} to finish…"
                (notify or _to_stderr)(message)
                told = True
            time.sleep(0.05)
        _HELD[key] = 1
        try:
            yield folder
        finally:
            _HELD[key] = 0
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused meanwhile (and restored as it was).

    A store step decodes millions of small objects (entries, kept findings, focus keys),
    none of them cyclic garbage; each allocation burst otherwise sets off collections that
    walk all of them again: 0.8 s of a 3.3 s quick `rkg validate` at 100k resources."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def connect(folder: Path) -> sqlite3.Connection:
    """The store's database, created on first use (WAL: readers never block the writer)."""
    folder.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(folder / "state.sqlite", timeout=120, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(SCHEMA)
    return db


@contextlib.contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction (taken at once: BEGIN IMMEDIATE), committed when the block ends,
    rolled back when it raises, so a killed or failed run leaves the rows as they were."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def get_meta(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(db: sqlite3.Connection, key: str, value: str) -> None:
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
