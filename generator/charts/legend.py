"""A chart's legend: Matplotlib's legend handles, laid out as Matplotlib lays them out, drawn as plain artists.

Matplotlib's Legend packs its entries in nested boxes that measure every text again whenever they are asked
where they are: drawing one took a quarter of a chart (docs/performance.md). Here each label is measured
once per chart (a TextArea, by the SVG renderer's own metrics) and the entries are packed as Legend packs
them (a column's entries one below the other, columns side by side, first rows on one baseline, the whole
centred at the bottom of the figure), then drawn as the handles Matplotlib's legend handlers make plus
one text per label. tests/test_charts.py compares every position with Matplotlib's own legend.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
from matplotlib.artist import Artist
from matplotlib.backends.backend_svg import RendererSVG
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.offsetbox import TextArea
from matplotlib.transforms import Affine2D


def column_sizes(n: int, cols: int) -> list[int]:
    """Entries per column, as Legend splits them (numpy's array_split: the first columns take the extra ones)."""
    base, extra = divmod(n, cols)
    return [base + (1 if j < extra else 0) for j in range(cols) if base or j < extra]


class ChartLegend:
    """The legend of one chart: measured once, placed again for each size the figure is drawn at."""

    def __init__(self, fig: Figure, handles: Sequence[Any], labels: Sequence[str]):
        rc = mpl.rcParams
        self.fig = fig
        legend = Legend(fig, list(handles), list(labels))  # for its handle artists only: never added or drawn
        self.handles: list[Artist] = list(legend.legend_handles)
        for handle in self.handles:
            handle.set_zorder(legend.get_zorder())  # drawn after the axes, as the legend is
        fs = legend.prop.get_size_in_points()
        self.handle_width = rc["legend.handlelength"] * fs
        self.handle_height = rc["legend.handleheight"] * fs  # (the handle box's descent is 0 at the default 0.7)
        self.text_gap, self.row_gap = rc["legend.handletextpad"] * fs, rc["legend.labelspacing"] * fs
        self.column_gap = rc["legend.columnspacing"] * fs
        self.above = (rc["legend.borderaxespad"] + rc["legend.borderpad"]) * fs  # the figure's bottom to the entries
        self.prop, self.colour = legend.prop, legend.texts[0].get_color() if legend.texts else rc["text.color"]
        renderer = RendererSVG(1, 1, io.StringIO())  # measures text as the SVG writer will
        # The labels as the legend makes them (a label of several lines is centred on its handle), measured once.
        self.texts: list[TextArea] = []
        self.entries: list[tuple[float, float, float]] = []  # width, bottom and top about the baseline
        for label in labels:
            box = TextArea(label, multilinebaseline=True, textprops={
                "verticalalignment": "baseline", "horizontalalignment": "left", "fontproperties": self.prop,
                "color": self.colour})
            box.set_figure(fig)
            box.set_zorder(legend.get_zorder())
            bbox = box.get_bbox(renderer)
            self.texts.append(box)
            self.entries.append((self.handle_width + self.text_gap + bbox.width,
                                 min(0.0, bbox.y0), max(self.handle_height, bbox.y1)))

    def draw(self, cols: int, width: float) -> list[Artist]:
        """The legend in `cols` columns at the bottom of a figure `width` points wide: the artists added to
        the figure (remove them before it is drawn at another size)."""
        # Each column: its entries' baselines below the first one's, its width, and its lowest point.
        columns, start = [], 0
        for size in column_sizes(len(self.entries), cols):
            entries = self.entries[start:start + size]
            baselines, below = [0.0], 0.0
            for (_, y0, _), (_, _, next_y1) in itertools.pairwise(entries):
                below += -y0 + self.row_gap + next_y1  # from one baseline down to the next
                baselines.append(-below)
            columns.append((range(start, start + size), baselines, max(e[0] for e in entries), -below + entries[-1][1]))
            start += size
        lowest = min(bottom for *_, bottom in columns)
        total = sum(c[2] for c in columns) + self.column_gap * (len(columns) - 1)
        x, y = width / 2 - total / 2, self.above - lowest  # the first entry's handle, on its baseline
        out: list[Artist] = []
        points = Affine2D().scale(1 / 72) + self.fig.dpi_scale_trans
        pixels = self.fig.dpi / 72  # a TextArea is placed in display units
        for indexes, baselines, column_width, _ in columns:
            for i, baseline in zip(indexes, baselines, strict=True):
                handle, text = self.handles[i], self.texts[i]
                handle.set_transform(Affine2D().translate(x, y + baseline) + points)
                text.set_offset(((x + self.handle_width + self.text_gap) * pixels, (y + baseline) * pixels))
                out += [self.fig.add_artist(handle), self.fig.add_artist(text)]
            x += column_width + self.column_gap
        return out
