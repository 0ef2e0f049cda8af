"""The one exception hierarchy for user-facing errors.

Every error a user can cause carries where it happened (file, line, field) so that the CLI
can render it once, as one clear message, without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class RkgError(Exception):
    """A problem the user can fix; rendered by the CLI as one message and exit status 2."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        line: int | None = None,
        field: str | None = None,
        record_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        self.record_id = record_id

    def location(self) -> str:
        """`file:line` as editors understand it, or '' when the error has no place."""
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}" if self.line is not None else self.file

    def __str__(self) -> str:
        parts = []
        loc = self.location()
        if loc:
            parts.append(loc)
        if self.record_id is not None:
            parts.append(f"record {self.record_id}")
        if self.field is not None:
            parts.append(f"field '{self.field}'")
        prefix = ": ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message


class StructureError(RkgError):
    """A source file cannot be read as records: the build stops."""


class ConfigError(RkgError):
    """The catalog folder or its settings are unusable."""


class VocabularyError(RkgError):
    """An ontology or vocabulary file does not parse or is inconsistent."""


class QueryError(RkgError):
    """A stored or ad-hoc query cannot run as asked."""


class EndpointError(RkgError):
    """A remote SPARQL endpoint is unreachable, slow or answered with an error."""


class ValidationError(RkgError):
    """Validation could not run (as opposed to: it ran and found problems)."""


class PublishError(RkgError):
    """A release cannot be written."""


@dataclass(frozen=True, order=True)
class Diagnostic:
    """A content problem found while building: reported, never fatal."""

    file: str
    line: int
    record_id: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: record {self.record_id}: field '{self.field}': {self.message}"
