"""Readable, stable URL slugs for feature and team names (`features/<slug>/`, `api/teams/<slug>.json`).

A name's slug depends only on the name and on which other names share its base slug, never on
the order names arrive in: "Design" and "design" both want `design`; the one spelled exactly like
its slug keeps it, every other one gets a short hash of its exact spelling appended.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable

FALLBACK = "unnamed"
MAX_LENGTH = 80  # a slug is a file name (`api/teams/<slug>.json`): far below any file system's 255 bytes


def slugify(name: str) -> str:
    """Lowercase ASCII letters and digits joined by single hyphens: "Legal, Risk & Co." → "legal-risk-co".

    A longer slug is cut to MAX_LENGTH with a hash of the whole name at its end, so two long names that
    share a beginning still get two slugs."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or FALLBACK
    if len(slug) > MAX_LENGTH:
        slug = _hashed(name, slug[:MAX_LENGTH - 13].rstrip("-"), 12)
    return slug


def _hashed(name: str, base: str, length: int) -> str:
    return f"{base}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:length]}"


def assign_slugs(names: Iterable[str]) -> dict[str, str]:
    """Name → slug, distinct for distinct names, deterministic (sorted by name)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for name in sorted(set(names)):
        groups[slugify(name)].append(name)
    out: dict[str, str] = {}
    taken = set(groups)
    for base, members in sorted(groups.items()):
        if len(members) == 1:
            out[members[0]] = base
            continue
        for name in members:
            if name == base:
                out[name] = base
                continue
            length = 6
            slug = _hashed(name, base, length)
            while slug in taken:  # a real name that happens to look like a hashed slug
                length += 2
                slug = _hashed(name, base, length)
            taken.add(slug)
            out[name] = slug
    return dict(sorted(out.items()))
