"""Frozen copies of the on-disk query store, for readers in other processes (`rkg serve`).

pyoxigraph documents a read-only open beside a process that writes the store as undefined
behaviour, and the query store is written whenever the records change (the live preview, or
`rkg query` in another terminal). A snapshot is a RocksDB checkpoint of it (`Store.backup`):
made in milliseconds under the catalog's lock right after the store is brought in step with
a catalog version (`querystore.sync`), made of hard links to the store's files (which RocksDB
never changes once written: it writes new ones and unlinks old ones), and never written
afterwards. Any number of processes open it read-only, with defined behaviour, while the
store itself follows the next edit; each version served gets its own snapshot, removed once
no reader can still be using it.

Snapshots live in the store folder's `snapshots/`, named `<process id>-<n>`; ones left by a
process that no longer runs (killed) are removed by the next `take`. A catalog that was not
loaded through the store (a notebook's `Catalog.load`) gets a store of its own in a temporary
folder instead, written once, then read the same way.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from resource_kg.catalog import Catalog
from resource_kg.store.incremental import StoredCatalog
from resource_kg.store.querystore import refresh, sync
from resource_kg.store.state import connect, get_meta, locked

SNAPSHOTS = "snapshots"
_COUNTER = itertools.count(1)


@dataclass(frozen=True)
class Snapshot:
    """A store folder no process writes: open it with `ox.Store.read_only(str(path))`."""

    path: Path
    #: What `rkg query`'s store said it did to follow this version ("unchanged", "built",
    #: "updated 1 record(s)"), or "temporary" for a catalog not loaded through the store.
    done: str
    #: The store's token when the snapshot was taken (`querystore`): two snapshots with the
    #: same token hold the same quads. None for a temporary store.
    token: str | None = None

    def open(self) -> ox.Store:
        return ox.Store.read_only(str(self.path))

    def discard(self) -> None:
        """Remove the snapshot's folder (its files stay while a reader still has them open)."""
        shutil.rmtree(self.path, ignore_errors=True)
        if self.done == "temporary":
            shutil.rmtree(self.path.parent, ignore_errors=True)


def take(catalog: Catalog, previous: Catalog | None = None) -> Snapshot:
    """A snapshot holding exactly `catalog`'s four graphs. `previous`: the catalog of the last
    snapshot this process took, which spares comparing every record (`querystore.sync`)."""
    if isinstance(catalog, StoredCatalog):
        return _of_store(catalog, previous if isinstance(previous, StoredCatalog) else None)
    return _of_quads(catalog)


def of_folder(root: Path | str) -> Snapshot:
    """A snapshot of the catalog folder's current state without loading the catalog: the
    query store's own freshness check (`querystore.refresh`: a few changed files are rebuilt
    alone), so a server can answer SPARQL in seconds while the catalog loads."""
    with locked(root) as folder:
        target, done = refresh(root)
        db = connect(folder)
        try:
            token = get_meta(db, "store_token")
        finally:
            db.close()
        return _backup(folder, target, done, token)


def _of_store(catalog: StoredCatalog, previous: StoredCatalog | None) -> Snapshot:
    with locked(catalog.paths.root) as folder:
        target, done = sync(catalog, previous)
        return _backup(folder, target, done, catalog.store_token)


def _backup(folder: Path, target: Path, done: str, token: str | None) -> Snapshot:
    """Checkpoint the store at `target` (the caller holds the catalog's lock)."""
    parent = folder / SNAPSHOTS
    parent.mkdir(exist_ok=True)
    clear_stale(parent)
    path = parent / f"{os.getpid()}-{next(_COUNTER)}"
    shutil.rmtree(path, ignore_errors=True)  # a process id seen before, in another boot
    store = ox.Store(str(target))
    try:
        store.backup(str(path))
    finally:
        del store
    return Snapshot(path, done, token)


def _of_quads(catalog: Catalog) -> Snapshot:
    path = Path(tempfile.mkdtemp(prefix="rkg-store-")) / "store"
    store = ox.Store(str(path))
    try:
        store.bulk_extend(catalog.quads)
        store.flush()
    finally:
        del store
    return Snapshot(path, "temporary")


def clear_stale(parent: Path) -> list[Path]:
    """Remove the snapshots of processes that no longer run; the folders removed."""
    gone: list[Path] = []
    for entry in sorted(parent.iterdir()):
        pid, _, n = entry.name.partition("-")
        if not (pid.isdigit() and n.isdigit()) or int(pid) == os.getpid():
            continue
        if not _alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)
            gone.append(entry)
    return gone


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
