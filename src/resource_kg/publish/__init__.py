"""Write a release: dumps, VoID + DCAT description, checksums, validation report, changelog, site.

A release is one folder, OUT/<version>/, built in a temporary folder beside it and renamed
into place at the end, so a reader never sees half a release and an interrupted run leaves
earlier releases untouched. Every file in it depends only on the catalog, the version, the
date and the base URL: publishing twice gives byte-identical folders.

    release  `publish`: validate, then OUT/<version>/ written atomically; versions, LATEST
    dumps    the downloadable files (TriG, Turtle, N-Triples, JSON-LD, gzip), their statistics, SHA256SUMS
    void     the VoID and DCAT description of the dataset and its dumps

The changelog between releases is `resource_kg.changes`; the static site is `resource_kg.site`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from resource_kg.lazy import lazy_exports

if TYPE_CHECKING:
    from resource_kg.publish.dumps import (
        DUMPS,
        SUMS,
        Dump,
        DumpStats,
        expect_bytes,
        ntriples_chunks,
        progress_callback,
        progress_step,
        sha256_file,
        sha256sums,
        write_dumps,
        write_gzip,
        write_plain,
    )
    from resource_kg.publish.release import (
        LATEST,
        PublishRefused,
        Release,
        default_base_url,
        next_version,
        publish,
    )
    from resource_kg.publish.void import (
        ADMS,
        DCAT,
        EU_LANGUAGE,
        FILE_TYPE,
        IANA,
        SPDX,
        VOID,
        VOID_PREFIXES,
        void_description,
        void_statistics,
    )

#: Where each name lives, loaded on first use (`resource_kg.lazy`).
_WHERE = {
    "ADMS": "void",
    "DCAT": "void",
    "DUMPS": "dumps",
    "Dump": "dumps",
    "DumpStats": "dumps",
    "EU_LANGUAGE": "void",
    "FILE_TYPE": "void",
    "IANA": "void",
    "LATEST": "release",
    "PublishRefused": "release",
    "Release": "release",
    "SPDX": "void",
    "SUMS": "dumps",
    "VOID": "void",
    "VOID_PREFIXES": "void",
    "default_base_url": "release",
    "expect_bytes": "dumps",
    "next_version": "release",
    "ntriples_chunks": "dumps",
    "progress_callback": "dumps",
    "progress_step": "dumps",
    "publish": "release",
    "sha256_file": "dumps",
    "sha256sums": "dumps",
    "void_description": "void",
    "void_statistics": "void",
    "write_dumps": "dumps",
    "write_gzip": "dumps",
    "write_plain": "dumps",
}
__getattr__ = lazy_exports(__name__, _WHERE)

__all__ = [
    "ADMS",
    "DCAT",
    "DUMPS",
    "Dump",
    "DumpStats",
    "EU_LANGUAGE",
    "FILE_TYPE",
    "IANA",
    "LATEST",
    "PublishRefused",
    "Release",
    "SPDX",
    "SUMS",
    "VOID",
    "VOID_PREFIXES",
    "default_base_url",
    "expect_bytes",
    "next_version",
    "ntriples_chunks",
    "progress_callback",
    "progress_step",
    "publish",
    "sha256_file",
    "sha256sums",
    "void_description",
    "void_statistics",
    "write_dumps",
    "write_gzip",
    "write_plain",
]
