"""Finding the export files, telling their format, checking their header, hashing their content.

Content hashes key the ingest cache. Hashing is remembered per file by (size, mtime_ns, inode),
the way git's index does, so an untouched file is not read twice; any change re-hashes it.
"""

from __future__ import annotations

import concurrent.futures
import csv
import difflib
import errno
import glob
import gzip
import hashlib
import io
import json
import mmap
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from generator.config import SiteConfig
from generator.errors import DataError, Problem
from generator.fileio import write_atomic

COLUMNS = ("event_id", "timestamp", "member", "team", "feature", "operation", "model",
           "credits", "quantity", "session_id", "knowledge")
REQUIRED = ("event_id", "timestamp", "member", "feature", "operation", "credits")
FORMATS = {".csv": "csv", ".csv.gz": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".jsonl.gz": "jsonl",
           ".ndjson.gz": "jsonl", ".parquet": "parquet"}


@dataclass(frozen=True)
class ExportFile:
    path: Path  # absolute
    shown: str  # relative to site.toml where possible: what messages print
    format: str  # csv | jsonl | parquet
    header: tuple[str, ...] = ()  # CSV column order

    @property
    def gzipped(self) -> bool:
        return self.path.name.lower().endswith(".gz")


def find_exports(config: SiteConfig) -> tuple[list[ExportFile], list[str]]:
    """Expand `[data].exports` globs relative to site.toml: each file once, sorted by path."""
    warnings: list[str] = []
    found: dict[Path, None] = {}
    for pattern in config.data.exports:
        matches = []
        for m in glob.glob(str(config.root / pattern), recursive=True):
            try:
                path = Path(m).resolve(strict=True)
            except (OSError, RuntimeError) as exc:  # a dangling link or a loop of links
                reason = "a symbolic link that loops" if isinstance(exc, RuntimeError) or \
                    getattr(exc, "errno", None) == errno.ELOOP else f"cannot be read: {exc.strerror or exc}"
                raise DataError([Problem(describe_name(Path(m), config.root), None, "", reason)]) from None
            if path.is_file():
                matches.append(path)
        if not matches:
            warnings.append(f"{config.path.name}: data.exports: {pattern!r} matches no file")
        found.update(dict.fromkeys(matches))
    if not found:
        raise DataError([Problem(config.path.name, None, "data.exports",
                                 "no export files found; check the globs in [data].exports")])
    exports = [describe(path, config.root) for path in sorted(found, key=str)]
    return exports, warnings


def describe_name(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def describe(path: Path, root: Path) -> ExportFile:
    shown = describe_name(path, root)
    name = path.name.lower()
    fmt = next((f for suffix, f in sorted(FORMATS.items(), key=lambda kv: -len(kv[0])) if name.endswith(suffix)), None)
    if fmt is None:
        raise DataError([Problem(shown, None, "", "unsupported export format; expected one of "
                                 + ", ".join(sorted(FORMATS)))])
    export = ExportFile(path, shown, fmt)
    if fmt == "csv":
        header = tuple(_first_line_fields(export))
        check_columns(export, header)
        export = ExportFile(path, shown, fmt, header)
    elif fmt == "jsonl":
        _check_first_json_line(export)
    return export


def _open(export: ExportFile):
    return gzip.open(export.path, "rb") if export.gzipped else open(export.path, "rb")


def _first_line(export: ExportFile) -> str:
    try:
        with _open(export) as fh:
            first = fh.readline(1 << 20)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError([Problem(export.shown, None, "", f"cannot read: {exc}")]) from None
    try:
        return first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError([Problem(export.shown, 1, "", "not valid UTF-8; save the export as UTF-8")]) from None


def _first_line_fields(export: ExportFile) -> list[str]:
    text = _first_line(export)
    if not text.strip():
        raise DataError([Problem(export.shown, None, "", "empty export: no header row")])
    if "\n" not in text and "\r" in text:
        raise DataError([Problem(export.shown, 1, "", "lines end in CR alone (an old Mac format); save the export "
                                 "with LF or CRLF line ends")])
    if "\n" not in text and len(text) >= 1 << 19:
        raise DataError([Problem(export.shown, 1, "", "the header line is longer than 512 KiB (is this a CSV "
                                 "export with one event per line?)")])
    try:
        return [h.strip() for h in next(csv.reader(io.StringIO(text)))]
    except csv.Error as exc:
        raise DataError([Problem(export.shown, 1, "", f"the header cannot be read as CSV: {exc}")]) from None


def _check_first_json_line(export: ExportFile) -> None:
    """A misspelled key would otherwise only show as 'required value is missing' on every row."""
    text = _first_line(export)
    if not text.strip():
        raise DataError([Problem(export.shown, None, "", "empty export: no events")])
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        return  # reported with its line by row validation
    if isinstance(obj, dict):
        check_columns(export, tuple(obj), line=1, required=False)


def check_columns(export: ExportFile, names: tuple[str, ...], line: int = 1, required: bool = True) -> None:
    problems = []
    for name in names:
        if name not in COLUMNS:
            close = difflib.get_close_matches(name, COLUMNS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; expected columns: {', '.join(COLUMNS)}"
            problems.append(Problem(export.shown, line, name or "(blank)", f"unknown column{hint}"))
    if required:
        problems += [Problem(export.shown, line, name, "required column is missing from the header")
                     for name in REQUIRED if name not in names]
    problems += [Problem(export.shown, line, d, "column appears twice in the header")
                 for d in sorted({n for n in names if names.count(n) > 1})]
    if problems:
        raise DataError(problems)


class ContentHashes:
    """sha256 of each export, remembered by (size, mtime_ns, inode) in `<cache>/files.json`."""

    def __init__(self, cache_dir: Path):
        self.path = cache_dir / "files.json"
        try:
            self._known: dict[str, list] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self._known = {}
        self._seen: dict[str, list] = {}

    def of(self, path: Path) -> str:
        st = path.stat()
        stamp = [st.st_size, st.st_mtime_ns, st.st_ino]
        known = self._known.get(str(path))
        if known and known[:3] == stamp:
            digest = known[3]
        else:
            with open(path, "rb") as fh:
                digest = hashlib.file_digest(fh, "sha256").hexdigest()
        self._seen[str(path)] = [*stamp, digest]
        return digest

    def of_all(self, paths: list[Path]) -> dict[str, str]:
        """Path → sha256 of each file; the unknown ones hashed two at a time (hashlib works without the GIL:
        measured on 1.3 GB of exports, 0.9 s one by one)."""
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            return dict(zip(map(str, paths), pool.map(self.of, paths), strict=True))

    def save(self) -> None:
        if self._seen != self._known:
            write_atomic(self.path, json.dumps(self._seen, sort_keys=True))


@dataclass
class FileStats:
    shown: str
    rows: int = 0
    counted: int = 0
    duplicate: int = 0
    quarantined: int = 0


# Bytes that mean a control character or a noncharacter somewhere in a UTF-8 file (line ends aside):
# C0 controls but LF and CR, DEL, C1 controls (U+0080–U+009F), U+FDD0–U+FDEF, U+FFFE and U+FFFF.
_CONTROL_BYTES = re.compile(rb"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]|\xef\xb7[\x90-\xaf]|\xef\xbf[\xbe\xbf]")
_PLAIN = bytes(range(0x20, 0x7F)) + b"\n\r"
_QUOTED_WITHOUT_LINE_ENDS = re.compile(rb'(?:[^"]*"[^"\n\r]*")*[^"]*')


_CONTROL_VERDICTS: dict[tuple, bool] = {}  # (path, size, mtime, inode) → verdict: the preview rebuilds in one process


def _verdict_key(export: ExportFile) -> tuple | None:
    """The memo key of an export whose bytes are scanned (a plain CSV file), else None."""
    if export.format != "csv" or export.gzipped:
        return None
    st = export.path.stat()
    return (str(export.path), st.st_size, st.st_mtime_ns, st.st_ino)


def may_hold_control_characters(export: ExportFile) -> bool:
    """Whether a value of this export may hold a control character, from one pass over its bytes.

    False only for a plain CSV file without such bytes and without a line end inside a quoted field
    (a field is inside quotes after an odd number of quote characters: `""` inside one keeps the
    count even). Then the row checks can skip their regular expression, measured at a fifth of a
    CSV scan; anything else (gzip, JSON, Parquet) is checked row by row."""
    try:
        key = _verdict_key(export)
        if key is None:
            return True
        if key not in _CONTROL_VERDICTS:
            _CONTROL_VERDICTS[key] = _scan(export.path)
    except OSError:
        return True
    return _CONTROL_VERDICTS[key]


# From this many bytes to scan in all, numpy compares them (its import costs ~35 ms, which a day's export
# would not win back).
_NUMPY_FROM = 32 << 20


def scan_for_control_characters(exports: list[ExportFile]) -> None:
    """The verdicts of `may_hold_control_characters`, worked out for many files at once: two at a time,
    numpy comparing their bytes without holding the GIL (measured on 1.3 GB of CSV: 0.8 s against 1.8 s
    one file after another)."""
    try:
        keys = {key: e.path for e in exports if (key := _verdict_key(e)) is not None and key not in _CONTROL_VERDICTS}
        if sum(size for _, size, _, _ in keys) < _NUMPY_FROM:  # (a key holds the file's size)
            return  # each is scanned when it is asked for
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            verdicts = list(pool.map(lambda path: _scan(path, numpy_first=True), keys.values()))
        _CONTROL_VERDICTS.update(zip(keys, verdicts, strict=True))
    except OSError:
        return  # each is asked for on its own, and an unreadable one says so there


def _scan(path: Path, numpy_first: bool = False) -> bool:
    if not numpy_first or path.stat().st_size == 0:  # (an empty file cannot be mapped)
        return _control_bytes_in(path.read_bytes())
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        plain = _plain_ascii(data)
        if plain is None:  # a byte past ASCII: the full check (a UTF-8 control character is several bytes)
            return _control_bytes_in(data[:])
        return not plain or _line_end_inside_quotes(data)


def _plain_ascii(data: mmap.mmap) -> bool | None:
    """For ASCII bytes: whether none is a control byte but line ends. None when a byte is DEL or past
    ASCII (then the full check decides)."""
    import numpy as np  # only here: a large scan

    values = np.frombuffer(data, np.uint8)  # a view: released when this returns, before the map is closed
    below = ends = 0
    for at in range(0, len(values), 1 << 22):
        part = values[at:at + (1 << 22)]
        if np.count_nonzero(part >= 0x7F):
            return None
        below += np.count_nonzero(part < 0x20)
        ends += np.count_nonzero(part == 0x0A) + np.count_nonzero(part == 0x0D)
    return bool(below == ends)


# Quoted fields looked at one by one (each a few memchr calls) up to this many, then by the regular
# expression: measured on 10 M rows (190 k quoted fields), 0.2 s where the expression took 0.9 s; a file
# with a quoted field on every line has the expression's cost, not a Python loop's.
_QUOTED_ONE_BY_ONE = 1_000_000


def _control_bytes_in(data: bytes) -> bool:
    # Printable ASCII and line ends taken out first (fast); a UTF-8 character keeps its bytes together.
    if _CONTROL_BYTES.search(data.translate(None, _PLAIN)):
        return True
    return _line_end_inside_quotes(data)


def _line_end_inside_quotes(data: bytes) -> bool:
    """Whether, taking quote characters pair by pair from the start, a line end lies inside a pair (or a
    quote is never closed): `""` inside a field is a pair of its own, which changes nothing."""
    start = data.find(b'"')
    for _ in range(_QUOTED_ONE_BY_ONE):
        if start == -1:
            return False
        end = data.find(b'"', start + 1)
        if end == -1 or data.find(b"\n", start, end) != -1 or data.find(b"\r", start, end) != -1:
            return True
        start = data.find(b'"', end + 1)
    if start == -1:
        return False
    return _QUOTED_WITHOUT_LINE_ENDS.match(data, start).end() != len(data)


def lone_cr_line(export: ExportFile) -> int | None:
    """The line of the first carriage return that is neither part of a CRLF nor inside a quoted value.

    Only asked once DuckDB could not read a CSV export at all, so a slow byte loop costs nothing otherwise."""
    try:
        with _open(export) as fh:
            data = fh.read()
    except (OSError, EOFError, zlib.error):
        return None
    line, quoted = 1, False
    for i, byte in enumerate(data):
        if byte == 0x22:  # "
            quoted = not quoted
        elif byte == 0x0A:
            line += 1
        elif byte == 0x0D and not quoted and data[i + 1:i + 2] != b"\n":
            return line
    return None

