"""What the catalog store's freshness is decided on: hashes of bytes, never sizes or times.

A cached answer is reused only when every byte it was computed from is the same: each input
file is hashed, and the whole store is keyed by the fingerprint of the code that computes it
(every source file of the installed package, found by walking the package, plus the versions
of the libraries whose behaviour shapes the answers). Nothing here is listed by hand, so a new
module or an edited constant invalidates the store without anyone remembering to say so.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from functools import cache
from pathlib import Path

#: Libraries whose versions are part of the code fingerprint: they parse, build and check.
LIBRARIES = ("resource-kg", "pyoxigraph", "rdflib", "pyshacl", "PyYAML")
#: Bumped when the layout of the store's own files changes.
STORE_FORMAT = "rkg-store 1"


def hash_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hash_file(path: Path) -> str:
    return hash_bytes(path.read_bytes())


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


@cache
def code_fingerprint() -> str:
    """A hash of the package's own source files and the versions of the libraries it uses.

    Computed once per process (≈ 5 ms): the package's `*.py` files are walked, so any edit to
    any module (a constant in the tagger, a message in the builder) gives another store."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(STORE_FORMAT.encode() + b"\0")
    for name in LIBRARIES:
        digest.update(f"{name}={_version(name)}\0".encode())
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(hash_file(path).encode() + b"\0")
    return digest.hexdigest()


def files_digest(named: list[tuple[str, str]]) -> str:
    """One hash of (name, content hash) pairs: the key of everything a step read."""
    digest = hashlib.sha256()
    for name, sha in sorted(named):
        digest.update(f"{name}\0{sha}\n".encode())
    return digest.hexdigest()
