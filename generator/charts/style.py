"""The look of every chart, as plain data: the chart cache hashes it without importing Matplotlib.

One palette for the whole site (Okabe–Ito, distinguishable with the common colour-vision
deficiencies), used in the same order everywhere: a feature or team keeps its colour across charts
because the series arrive sorted by name.
"""

from __future__ import annotations

# Okabe–Ito, without its yellow (too faint on white for thin lines and small bars).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
MAIN = PALETTE[0]  # the measured series
TARGET = PALETTE[5]  # allocation, budget, target: the lines to stay under
PACE = PALETTE[1]  # even pace, projections
GUIDE = "#777777"  # notify levels and other reference lines
HIGHLIGHT = PALETTE[5]  # spike days among the daily bars

# Matplotlib rcParams (strings, numbers and lists only; charts.py adds the colour cycle).
STYLE: dict[str, object] = {
    "svg.fonttype": "none",  # text stays text: sharp at any zoom, searchable, selectable
    "svg.hashsalt": "creditwise",  # stable ids: two builds write the same bytes
    "text.parse_math": False,  # names are data: "$x$" in a team name is text, not mathtext
    "font.family": ["sans-serif"],
    "font.sans-serif": ["DejaVu Sans"],  # the SVG names it, then falls back to the reader's sans-serif
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "axes.axisbelow": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "figure.facecolor": "#ffffff",
}
SIZE = (7.2, 3.0)  # inches; pages show charts at 720 × 300 CSS pixels, the same 2.4 : 1
