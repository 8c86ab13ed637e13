"""`creditwise digest`: bring the site up to date, read its JSON API, compare it with the baseline, write it out."""

from __future__ import annotations

from collections.abc import Callable

from generator.config import SiteConfig
from generator.digest.baseline import read_api, resolve
from generator.digest.changes import digest
from generator.digest.render import render
from generator.pipeline.stamp import up_to_date

FORMATS = ("text", "markdown", "json")


def run_digest(config: SiteConfig, since: str | None = None, fmt: str = "text",
               progress: Callable[[str], None] = lambda _: None) -> str:
    baseline = resolve(config, since)  # an unusable target or an unknown release stops before any build
    out = config.output_path()
    if up_to_date(config, out) is None:  # the build the digest describes is the one `creditwise build` writes
        from generator.pipeline.build import build

        progress("building…")
        build(config, progress=progress)
    return render(digest(read_api(out), baseline), fmt)
