"""Screenshots of a built site for docs/screenshots/: overview, a month, a team and the plan; desktop, phone,
dark and print.

    .venv/bin/python tests/screenshots.py [SITE_DIR] [OUT_DIR]

Defaults: public/ (run `make site` first) into docs/screenshots/. Full-page PNGs: `desktop` 1280 CSS pixels
wide, `phone` 390, `dark` 390 in dark mode, `print` the page as printed on A4 (print media, the page box
703 px wide). The month is the current cycle, the team the one with the most credits in it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser import DESKTOP, PHONE, PRINT, browser, missing

REPO = Path(__file__).resolve().parents[1]


def targets(site: Path) -> dict[str, str]:
    info = json.loads((site / "api" / "site.json").read_text(encoding="utf-8"))
    month = json.loads((site / "api" / "months" / f"{info['current_cycle']}.json").read_text(encoding="utf-8"))
    team = min(month["by_team"], key=lambda t: (-month["by_team"][t], t)) if month["by_team"] else info["teams"][0]
    slug = info.get("slugs", {}).get("teams", {}).get(team, team)
    return {"overview": "index.html", "month": f"months/{info['current_cycle']}/index.html",
            "team": f"teams/{slug}/index.html", "plan": "plan/index.html"}


# name → viewport, colour scheme, media
VIEWS = {"desktop": (DESKTOP, "light", "screen"), "phone": (PHONE, "light", "screen"), "dark": (PHONE, "dark", "screen"),
         "print": (PRINT, "light", "print")}


def shrink(path: Path) -> None:
    """256 colours, no dithering: text and flat colours stay crisp, the file ~3× smaller."""
    from PIL import Image

    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def main(argv: list[str]) -> int:
    site = Path(argv[1] if len(argv) > 1 else REPO / "public").resolve()
    out = Path(argv[2] if len(argv) > 2 else REPO / "docs" / "screenshots").resolve()
    why = missing()
    if why:
        print(f"screenshots: {why}", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    with browser() as b:
        for width_name, (viewport, scheme, media) in VIEWS.items():
            page = b.new_page(viewport=viewport, device_scale_factor=1, color_scheme=scheme)
            page.emulate_media(media=media)
            for name, rel in targets(site).items():
                page.goto((site / rel).as_uri())
                path = out / f"{name}-{width_name}.png"
                page.screenshot(path=str(path), full_page=True)
                shrink(path)
                print(f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path}  ({path.stat().st_size // 1024} KB)")
            page.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
