"""The look of every chart, as plain data: the chart cache hashes it without importing Matplotlib.

One colour per meaning across the site, from the Okabe–Ito palette (distinguishable with the common
colour-vision deficiencies); lines that share a colour differ by dash. Each colour is written into the
SVG as `var(--cw-<meaning>, #light)`, so a chart inlined in a page takes the page's colours (the
stylesheet sets dark ones under `prefers-color-scheme: dark`), and a chart opened on its own keeps the
light ones. Series of stacked bars (features, teams) take CATEGORIES in order: a feature or team keeps
its colour across charts because the series arrive sorted by name.
"""

from __future__ import annotations

# meaning → light colour. Every hex here is distinct, so the SVG's colours map back to their meaning.
COLORS: dict[str, str] = {
    "ink": "#1d232b",  # text; the limits to stay under (allocation, budget, 100 %)
    "muted": "#56606c",  # axes, notify levels, the "today" line
    "grid": "#d9dee4",
    "paper": "#ffffff",  # the stripes of an in-progress bar (the page background shows through)
    "used": "#0072b2",  # what was used; its projection (dotted) and the 80 % band (pale)
    "pace": "#009e73",  # even pace, the daily target
    "warn": "#d55e00",  # run-out, spike days, the upgrade indicator
    "low": "#cc79a7",  # the downgrade indicator
}
# Stacked series (features, teams; "other" last), then wrapping around. No yellow: too faint on white.
CATEGORIES: tuple[str, ...] = ("#0072b2", "#e69f00", "#56b4e9", "#cc79a7", "#009e73", "#8c6d31")
OTHER = "#8a8f96"  # the "other" series of a stack
CATEGORY_VARS = {hex_: f"c{i + 1}" for i, hex_ in enumerate(CATEGORIES) if hex_ not in COLORS.values()}

# Two drawings of every chart: width and height of the plotting area in points (1/72 in; the SVG's viewBox
# units); the legend and the axis labels add to the height. The page shows the wide one across the content
# column (about 950 CSS px on a laptop: text ×1.7) and, below 48rem, the narrow one (about 360 CSS px on a
# 390 px phone: text ×1.33). 9 pt is the smallest text: 12 px on that phone.
WIDE = (560.0, 170.0)
NARROW = (270.0, 165.0)
FONT = 9.0

# Matplotlib rcParams (strings, numbers and lists only; draw.py adds the colour cycle).
STYLE: dict[str, object] = {
    "svg.fonttype": "none",  # text stays text: sharp at any zoom, searchable, selectable
    "svg.hashsalt": "creditwise",  # stable ids: two builds write the same bytes
    "text.parse_math": False,  # names are data: "$x$" in a team name is text, not mathtext
    "font.family": ["sans-serif"],
    "font.sans-serif": ["DejaVu Sans"],  # the SVG names it, then falls back to the reader's sans-serif
    "font.size": FONT,
    "axes.labelsize": FONT,
    "xtick.labelsize": FONT,
    "ytick.labelsize": FONT,
    "legend.fontsize": FONT,
    "text.color": COLORS["ink"],
    "axes.labelcolor": COLORS["ink"],
    "xtick.color": COLORS["muted"],
    "ytick.color": COLORS["muted"],
    "xtick.labelcolor": COLORS["ink"],
    "ytick.labelcolor": COLORS["ink"],
    "axes.edgecolor": COLORS["muted"],
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "axes.axisbelow": True,
    "grid.color": COLORS["grid"],
    "grid.linewidth": 0.6,
    "hatch.color": COLORS["paper"],
    "hatch.linewidth": 1.2,
    "legend.frameon": False,
    "legend.handlelength": 1.8,
    "legend.handletextpad": 0.5,
    "legend.columnspacing": 1.4,
    "legend.borderaxespad": 0.3,
    "legend.labelspacing": 0.35,
    "figure.facecolor": "none",  # transparent: the chart sits on the page, light or dark
    "axes.facecolor": "none",
    "savefig.facecolor": "none",
}
SIZE = {"wide": WIDE, "narrow": NARROW}
