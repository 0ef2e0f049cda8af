"""CLI command of the store stage: `rkg store` says where a catalog's store is, or clears it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import click

from resource_kg.commands.common import ROOT_ARG, cli, out
from resource_kg.store.snapshots import SNAPSHOTS, clear_stale
from resource_kg.store.state import cache_root, connect, get_meta, locked, store_dir


@cli.command("store")
@ROOT_ARG
@click.option("--clear", is_flag=True, help="Delete the catalog's store; the next run rebuilds it.")
def store_command(root: Path, clear: bool) -> None:
    """Where the catalog store of ROOT lives, what it holds, and how to clear it.

    Every command reads the catalog through one store: the parsed records and their triples,
    per-record validation results (with the triples the catalog-wide checks read), the
    serialized blocks of catalog.trig and catalog.ttl per record (so a build after a few
    edits serializes only those), and an on-disk pyoxigraph store for queries (with the
    snapshots of it a running `rkg serve` reads: --clear leaves those to their server). It lives in
    the user's cache folder (RKG_CACHE_DIR, else $XDG_CACHE_HOME/resource-kg, else
    ~/.cache/resource-kg), never in the catalog folder, and holds data only (SQLite and
    pyoxigraph files), never code. An entry is reused only while the bytes it was built from
    are the same: each record file, organizations.yaml, the vocabularies, ontology, shapes and
    settings are hashed, and the installed code (its source files and the versions of
    pyoxigraph, rdflib and pySHACL) is fingerprinted. Deleting it is always safe.
    """
    folder = store_dir(root)
    if clear:
        with locked(root):
            for child in sorted(folder.iterdir()) if folder.is_dir() else []:
                if child.name == "lock":
                    continue
                if child.name == SNAPSHOTS:  # a running server's: it removes its own
                    clear_stale(child)
                    continue
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        out.print(f"cleared the store of {root} ({folder})", markup=False)
        return
    out.print(f"store of {root}: {folder}", markup=False)
    out.print(f"cache folder of all catalogs: {cache_root()}", markup=False)
    if not (folder / "state.sqlite").is_file():
        out.print("empty: the next rkg run builds it", markup=False)
        return
    db = connect(folder)
    try:
        files = db.execute("SELECT COUNT(*) FROM files").fetchone()[0]
        results = db.execute("SELECT COUNT(*) FROM validation").fetchone()[0]
        in_store = db.execute("SELECT COUNT(*) FROM store_records").fetchone()[0]
        clean = bool(get_meta(db, "store_clean"))
    finally:
        db.close()
    # Snapshots share the store's files (hard links): each file counted once.
    sizes = {(st.st_dev, st.st_ino): st.st_size for st in _stats(folder)}
    size = sum(sizes.values())
    out.print(f"record files built: {files}; validation results kept: {results}", markup=False)
    query = "complete" if clean else "to be rebuilt on the next query"
    out.print(f"query store: {in_store} records, {query}; {size / 2**20:.1f} MiB", markup=False)


def _stats(folder: Path) -> list[os.stat_result]:
    return [p.stat() for p in folder.rglob("*") if p.is_file()]
