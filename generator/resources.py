"""Where the themes and guides that ship with Creditwise are found: the one place that knows.

In a checkout they are the repository's `themes/` and `content/guides/`; an installed wheel carries
copies inside the package (`generator/_shipped/`, see pyproject.toml), which win when present.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
_SHIPPED = PACKAGE / "_shipped"
_CHECKOUT = PACKAGE.parent


def _base() -> Path:
    return _SHIPPED if _SHIPPED.is_dir() else _CHECKOUT


THEMES = _base() / "themes"
GUIDES = _base() / "content" / "guides"
SAMPLE_EXPORTS = _base() / "content" / "exports"
