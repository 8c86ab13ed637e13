"""`creditwise new DIR`: a site folder that builds at once, from an installed Creditwise (no checkout needed)."""

from __future__ import annotations

import json
from pathlib import Path

from generator.errors import UsageError
from generator.scaffold.demo_data import write_demo_exports

TEMPLATE = Path(__file__).with_name("template") / "site.toml"
SAMPLE_MONTHS = 4  # enough for a baseline and a tier signal, small enough to read

EXAMPLE_GUIDE = """\
---
title: How we use Aethera
summary: Our own rules of thumb, next to the guides that ship with Creditwise.
order: 5
---

This page comes from `content/guides/how-we-use-aethera.md` in the site folder. Edit it, or add
more Markdown files beside it: each `<slug>.md` becomes the page `guides/<slug>/`.

A file named like one of the shipped guides (for example `tier-selection.md`) replaces that guide.

Numbers from `site.toml` can be used in the text, so the guide follows your settings: we aim to
keep each cycle below {{ thresholds.upgrade_utilization | pct }} of its allocation.
"""

README = """\
# {name}: Aethera usage reports

Built with Creditwise.

- `site.toml`: the site's settings (tiers, subscription history, budgets), commented.
- `exports/`: the usage exports. It holds a generated sample; put your own Aethera exports here
  (or point `[data].exports` in site.toml at them) and delete the sample files.
- `content/guides/`: your own guidance pages, beside the ones that ship with Creditwise; a file with
  the same name as a shipped guide replaces it.

Next steps:

    creditwise build              # writes the site into public/; open public/index.html
    creditwise serve              # preview with live reload on http://127.0.0.1:8000/
    creditwise check public       # links, HTML and the JSON API of the built site
"""


def new_site(folder: Path) -> list[Path]:
    """Write a new site folder; refuse one that already holds anything (nothing is overwritten)."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UsageError(f"{folder}: already exists and is not empty; choose a new folder (nothing was written)")
    name = folder.resolve().name
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "site.toml", folder / "README.md", folder / "content" / "guides" / "how-we-use-aethera.md"]
    title = json.dumps(f"Aethera usage — {name}", ensure_ascii=False)  # a JSON string is a valid TOML string
    written[0].write_text(TEMPLATE.read_text(encoding="utf-8").format(title=title), encoding="utf-8")
    written[1].write_text(README.format(name=name), encoding="utf-8")
    written[2].parent.mkdir(parents=True)
    written[2].write_text(EXAMPLE_GUIDE, encoding="utf-8")
    written += write_demo_exports(folder / "exports", months=SAMPLE_MONTHS)
    return written
