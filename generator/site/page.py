"""One page of the site: where it goes, its template and its context. Built by site.pages, rendered by site.render."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Page:
    path: str  # file path in the site, e.g. "months/2026-05/index.html"
    template: str
    title: str
    context: dict[str, Any] = field(default_factory=dict)
    listed: bool = True  # in the sitemap and api/site.json (404.html is not)
    base: str | None = None  # links start here instead of the relative root (404.html: base_url)

    @property
    def root(self) -> str:
        return self.base if self.base is not None else "../" * self.path.count("/")

    @property
    def url(self) -> str:
        """Directory-style URL relative to the site root (SPEC §4), e.g. "months/2026-05/"."""
        return self.path.removesuffix("index.html")
