"""`publish`: validate, then write OUT/<version>/ atomically (dumps, description, report, changelog, site)."""

from __future__ import annotations

import ctypes
import datetime as dt
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.progress import Progress

from resource_kg.catalog import Catalog
from resource_kg.changes import Changes, compare, releases_in, version_key
from resource_kg.errors import PublishError
from resource_kg.files import partial_folder, write_atomic
from resource_kg.publish.dumps import (
    SUMS,
    progress_callback,
    progress_step,
    sha256sums,
    write_dumps,
    write_plain,
)
from resource_kg.publish.void import void_description

if TYPE_CHECKING:
    from resource_kg.validate import Report

LATEST = "LATEST"


class PublishRefused(PublishError):
    """Validation found Violations and --force was not given: nothing was written.

    `violations` is the report showing those Violations only (what `rkg validate --severity
    violation` prints), so a caller can list them."""

    exit_code = 1

    def __init__(self, message: str, violations: Report) -> None:
        super().__init__(message)
        self.violations = violations


@dataclass
class Release:
    """What `publish` wrote."""

    path: Path
    version: str
    date: dt.date
    base_url: str
    previous: Path | None
    forced: bool
    counts: dict[str, int]
    changes: Changes
    files: list[str] = field(default_factory=list)


def default_base_url(base: str, version: str) -> str:
    return f"{base.rstrip('/#')}/release/{version}/"


def next_version(out: Path) -> str:
    """1.0.0 for a first release, else the newest release's version with patch + 1."""
    existing = releases_in(out)
    if not existing:
        return "1.0.0"
    major, minor, patch = version_key(existing[-1].name) or (0, 0, 0)
    return f"{major}.{minor}.{patch + 1}"


# ---------------------------------------------------------------- publish


def publish(
    catalog: Catalog,
    out: Path | str,
    *,
    version: str | None = None,
    date: dt.date | None = None,
    previous: Path | str | None = None,
    base_url: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> Release:
    """Validate, then write OUT/<version>/ atomically; raise PublishRefused on Violations."""
    from resource_kg import site
    from resource_kg.validate import validate

    out = Path(out)
    date = date or dt.date.today()
    version = version or next_version(out)
    if version_key(version) is None:
        raise PublishError(
            f"version {version!r} is not of the form X.Y.Z (e.g. 1.2.0)", field="version"
        )
    target = out / version
    if target.exists():
        raise PublishError(
            f"release {version} already exists; releases are never overwritten: choose another "
            "--version or remove that folder",
            file=target,
        )
    prev = Path(previous) if previous is not None else _previous_in(out, version)
    if prev is not None and not (prev / "catalog.trig").is_file():
        raise PublishError("previous release has no catalog.trig", file=prev)
    base_url = base_url or default_base_url(catalog.settings.base, version)
    if not base_url.endswith("/"):
        base_url += "/"

    report = validate(catalog, on=date, progress=progress_callback(progress, "validating"))
    counts = dict(report.counts())
    violations = counts.get("Violation", 0)
    forced = violations > 0
    if forced and not force:
        raise PublishRefused(
            f"validation found {violations} violation(s), {counts.get('Warning', 0)} warning(s): "
            "nothing published; fix the violations (`rkg validate --severity violation` lists "
            "them) or publish anyway with --force",
            report.shown("violation"),
        )
    notes: list[str] = []
    if forced:
        notes.append(
            f"Published with --force although validation found {violations} violation(s); "
            "see validation-report.csv."
        )

    # A locked `.VERSION.XXXXXXXX.partial` folder; those of killed runs are removed here.
    tmp, held = partial_folder(out, version)
    try:
        stats = write_dumps(catalog, tmp, progress=progress)
        write_plain(tmp / "validation-report.csv", report.render("csv"))
        write_plain(tmp / "validation-report.ttl", report.render("ttl"))
        with progress_step(progress, "comparing with the previous release"):
            changes = compare(catalog, version, date, prev)
        write_plain(tmp / "CHANGES.md", changes.markdown(notes))
        notes.append(f"Release {version}: {changes.summary()}.")
        write_plain(tmp / "changes.ttl", changes.turtle(base_url))
        written: dict[Path, str] = {}
        site.build_site(
            catalog,
            tmp / "site",
            version=version,
            date=date,
            base_url=base_url,
            progress=progress,
            digests=written,
        )
        with progress_step(progress, "describing the dataset (VoID, DCAT) and checksums"):
            write_plain(
                tmp / "void.ttl",
                void_description(
                    catalog,
                    stats,
                    tmp,
                    version=version,
                    date=date,
                    base_url=base_url,
                    notes=notes,
                ),
            )
            write_plain(tmp / SUMS, sha256sums(tmp, written))
        files = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file())
        _make_readable(tmp)
        _fsync_tree(tmp)
        try:
            os.rename(tmp, target)
        except OSError as exc:  # another publish of the same version finished first
            raise PublishError(f"cannot move the release into place: {exc}", file=target) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        os.close(held)
    newest = releases_in(out)
    if newest and newest[-1].name == version:
        write_atomic(out / LATEST, version + "\n")
        (out / LATEST).chmod(0o644)
    return Release(target, version, date, base_url, prev, forced, counts, changes, files)


def _previous_in(out: Path, version: str) -> Path | None:
    """The newest release in OUT older than `version`."""
    key = version_key(version)
    older = [p for p in releases_in(out) if key is not None and (version_key(p.name) or key) < key]
    return older[-1] if older else None


def _make_readable(folder: Path) -> None:
    """Temporary folders are private (0700); a release is meant to be served."""
    folder.chmod(0o755)
    for p in folder.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)


def flush_filesystem(folder: Path) -> bool:
    """syncfs(2) on the filesystem holding `folder`: one call flushes the new release's ≈ 330k
    files at 100k (an fsync per file took ≈ 55 s more). False where libc has no syncfs."""
    try:
        syncfs = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return False
    fd = os.open(folder, os.O_RDONLY)
    try:
        return bool(syncfs(fd) == 0)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    """Flush every file of the new release, and its folders, to disk before it is renamed in:
    a crash right after the rename must not leave a release of empty files. One syncfs where
    the system has it (not os.sync: only this filesystem), else an fsync per file."""
    if flush_filesystem(folder):
        return
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    for directory in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
