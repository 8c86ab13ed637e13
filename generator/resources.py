"""Where the themes and guides that ship with Creditwise are found: the one place that knows.

In a checkout they are the repository's `themes/` and `content/guides/`; an installed wheel carries
copies inside the package (`generator/_shipped/`, see pyproject.toml), which win when present.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
_SHIPPED = PACKAGE / "_shipped"
_CHECKOUT = PACKAGE.parent


def _base() -> Path:
    return _SHIPPED if _SHIPPED.is_dir() else _CHECKOUT


THEMES = _base() / "themes"
GUIDES = _base() / "content" / "guides"
SAMPLE_EXPORTS = _base() / "content" / "exports"


@cache
def code_hash() -> str:
    """Hash of every module of the package: a changed rule or formula must not reuse an old cached result."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
