"""The small exception hierarchy; each class maps to a SPEC §5 exit code.

Every user-facing error carries a list of problems, one line each, in the form
`file:line: key or column: reason`, so the CLI can print them all and a count.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can."""

    file: str
    line: int | None
    where: str  # key path in site.toml, or column of an export
    reason: str
    unit: str = "line"  # Parquet files have rows, not lines: `file:row N`
    event_id: str | None = None  # of the row, when readable (for the data-quality page)

    @property
    def location(self) -> str:
        if self.line is None:
            return self.file
        return f"{self.file}:{self.line}" if self.unit == "line" else f"{self.file}:{self.unit} {self.line}"

    def __str__(self) -> str:
        loc = self.location
        return f"{loc}: {self.where}: {self.reason}" if self.where else f"{loc}: {self.reason}"


class CreditwiseError(Exception):
    """Base of every error a user can cause; never shown with a traceback."""

    exit_code = 1
    label = "error"

    def __init__(self, problems: list[Problem] | str, total: int | None = None):
        if isinstance(problems, str):
            problems = [Problem("creditwise", None, "", problems)]
        self.problems = problems
        self.total = len(problems) if total is None else total
        super().__init__("\n".join(str(p) for p in problems))


class UsageError(CreditwiseError):
    """Bad command-line use or a bad site.toml (exit 2)."""

    exit_code = 2
    label = "config error"


class ConfigError(UsageError):
    """site.toml is missing, unparsable or invalid (exit 2)."""


class DataError(CreditwiseError):
    """The exports hold rows or files we cannot count (exit 3)."""

    exit_code = 3
    label = "data error"


class CheckError(CreditwiseError):
    """A built site failed its checks, or a publish was refused (exit 4)."""

    exit_code = 4
    label = "problem"
