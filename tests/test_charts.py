"""The drawing shortcuts of charts/ against what Matplotlib itself draws.

Ticks, tick labels and the y grid are drawn as a few artists of ours (ticks.py), the legend as plain
artists placed as Matplotlib's Legend would place them (legend.py), bars as one patch per series
(draw._bars): each must put on the page exactly what Matplotlib's own axes, legend and Axes.bar would.
The reference is the same chart drawn with Matplotlib's axes and legend (those shortcuts undone,
and each text measured and laid out by each save's own renderer, as Matplotlib does).
"""

from __future__ import annotations

import datetime as dt
import gc
import io
import re

import matplotlib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib import text as mtext
from matplotlib.backends.backend_mixed import MixedModeRenderer
from matplotlib.backends.backend_svg import RendererSVG
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from generator.charts import draw, text_metrics

# A <text>'s position and words; a marker's place (tick marks, data markers); every path (grid lines, legend
# handles, bars, lines), with their numbers to a thousandth of a point (the sums are not made in one order).
TEXT = re.compile(r'<text [^>]*transform="([^"]*)"[^>]*>([^<]*)</text>')
USE = re.compile(r'<use [^>]*?x="([^"]*)" y="([^"]*)"')
PATH = re.compile(r'<path d="([^"]*)"')
NUMBER = re.compile(r"-?\d+\.\d+")


def _rounded(text: str) -> str:
    return NUMBER.sub(lambda m: f"{float(m.group(0)):.3f}", text)


def drawn(svg: str) -> tuple[list, list, list]:
    return (sorted((_rounded(t), words) for t, words in TEXT.findall(svg)),
            sorted((_rounded(x), _rounded(y)) for x, y in USE.findall(svg)),
            sorted(_rounded(d) for d in PATH.findall(svg)))


class MatplotlibLegend:
    """What draw._save asks of a ChartLegend, done by Matplotlib's own Legend."""

    def __init__(self, fig, handles, labels):
        self.fig, self.handles, self.labels = fig, handles, labels

    def draw(self, cols, width):
        return [self.fig.legend(self.handles, self.labels, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncols=cols)]


def with_matplotlibs_own(function: str, args: dict) -> tuple[str, str]:
    with pytest.MonkeyPatch.context() as m:
        m.setattr(draw, "hide_axes", lambda ax: None)
        m.setattr(draw, "_BLANK", None)  # a blank figure with Matplotlib's axes shown
        m.setattr(draw, "draw_ticks", lambda ax: [])
        m.setattr(draw, "ChartLegend", MatplotlibLegend)
        m.setattr(mtext, "_get_text_metrics_with_cache", text_metrics._PER_RENDERER)
        m.setattr(mtext.Text, "_get_layout", text_metrics._OWN_LAYOUT)
        return draw.draw(function, args)


def cycles(n: int, start: int = 0) -> list[str]:
    return [f"{2024 + (start + i) // 12}-{(start + i) % 12 + 1:02d}" for i in range(n)]


credits = st.floats(min_value=0, max_value=2_000_000, allow_nan=False)
# Series names as feature and team names come: letters (with accents and descenders), digits, punctuation, spaces;
# now and then one of two lines.
series_names = st.text(st.characters(codec="latin-1", categories=("L", "N", "P", "Zs")), min_size=1, max_size=28) | \
    st.builds("{}\n{}".format, st.text("abgjpqyAÉ (%)", min_size=1, max_size=12), st.text("lpxÅ", min_size=1, max_size=8))


@st.composite
def charts(draw_: st.DrawFn) -> tuple[str, dict]:
    kind = draw_(st.sampled_from(["stacked", "utilization", "daily", "cumulative"]))
    if kind in ("stacked", "utilization"):
        n = draw_(st.integers(1, 30))
        names = cycles(n, draw_(st.integers(0, 11)))
        in_progress = draw_(st.booleans())
        if kind == "utilization":
            used = draw_(st.lists(st.floats(0, 3), min_size=n, max_size=n))
            return "utilization_bars", {"cycles": names, "utilization": used, "upgrade": 0.8, "downgrade": 0.6,
                                        "in_progress": in_progress}
        series, bottoms = [], [0.0] * n
        for i in range(draw_(st.integers(1, 4))):
            values = draw_(st.lists(credits, min_size=n, max_size=n))
            series.append({"label": f"{draw_(series_names)} {i}", "values": values, "bottoms": bottoms})
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
        line = {"label": draw_(series_names), "value": draw_(credits)} if draw_(st.booleans()) else None
        return "stacked_cycle_bars", {"cycles": names, "series": series, "markers": None, "line": line,
                                      "ylabel": "credits", "in_progress": in_progress}
    first = dt.date(2026, draw_(st.integers(1, 12)), 1)
    days = [first + dt.timedelta(days=i) for i in range(draw_(st.integers(28, 31)))]
    values = draw_(st.lists(st.floats(0, 50_000), min_size=len(days), max_size=len(days)))
    if kind == "daily":
        spikes = [v if draw_(st.booleans()) else None for v in values]
        return "daily_bars", {"days": days, "credits": values, "target": draw_(st.floats(0, 50_000)),
                              "highlighted": spikes, "today": draw_(st.sampled_from([None, days[-1]]))}
    total = 0.0
    cumulative = []
    for v in values[: draw_(st.integers(1, len(days)))]:
        total += v
        cumulative.append(total)
    allocation = draw_(st.floats(1, 2_000_000))
    return "cumulative_vs_pace", {"days": days, "cumulative": cumulative,
                                  "pace": [allocation * (i + 1) / len(days) for i in range(len(days))],
                                  "allocation": allocation, "thresholds": [("80%", 0.8 * allocation)]}


@settings(max_examples=25, deadline=None)
@given(chart=charts())
def test_ticks_labels_grid_and_legend_are_where_matplotlibs_own_put_them(chart):
    function, args = chart
    ours = draw.draw(function, args)
    reference = with_matplotlibs_own(function, args)
    for mine, theirs in zip(ours, reference, strict=True):
        assert drawn(mine) == drawn(theirs)


@settings(max_examples=12, deadline=None)
@given(chart=charts())
def test_a_copy_of_the_blank_figure_draws_what_a_figure_made_anew_draws(chart):
    # every chart starts from an unpickled copy of one blank figure: nothing of its state may be lost on the way
    function, args = chart
    ours = draw.draw(function, args)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(draw, "_copy_of_blank", draw._blank)
        assert draw.draw(function, args) == ours


def test_a_legend_label_of_two_lines_sits_where_matplotlibs_legend_puts_it():
    # Matplotlib centres a label of several lines on its handle: the rows below move down by the extra line
    series = [{"label": name, "values": [5.0, 7.0], "bottoms": [0.0, 0.0]} for name in ("Research\n& Dev", "Sales")]
    args = {"cycles": ["2026-01", "2026-02"], "series": series, "markers": None,
            "line": {"label": "budget (1,000 a cycle)", "value": 6.0}, "ylabel": "credits", "in_progress": True}
    ours, reference = draw.draw("stacked_cycle_bars", args), with_matplotlibs_own("stacked_cycle_bars", args)
    for mine, theirs in zip(ours, reference, strict=True):
        assert ">Research</text>" in mine and ">&amp; Dev</text>" in mine
        assert drawn(mine) == drawn(theirs)


def test_a_cycle_axis_names_every_cycle_that_fits_and_marks_the_others():
    # 3 cycles fit the wide drawing: each named, January with its year (and the first label with its year)
    wide, _ = draw.utilization_bars(["2026-01", "2026-02", "2026-03"], [0.5, 0.9, 0.3], 0.8, 0.6)
    texts = [t for _, t in TEXT.findall(wide)]
    assert texts[:4] == ["Jan", "2026", "Feb", "Mar"]
    # the y axis: 0 to 100 % (the allocation line) in steps of 20 %, as percentages
    assert texts[4:10] == ["0%", "20%", "40%", "60%", "80%", "100%"]
    assert "share of the allocation used" in texts


boxes = st.lists(st.tuples(st.floats(0, 10_000), st.floats(0, 10_000), st.booleans()), min_size=1, max_size=20)


@settings(max_examples=40, deadline=None)
@given(bars=boxes, width=st.sampled_from([0.65, 0.8]), dates=st.booleans())
def test_bars_are_axes_bar_in_one_patch_per_look(bars, width, dates):
    # the same bars by Axes.bar and by draw._bars: the same rectangles, limits and legend
    x = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(len(bars))] if dates else list(range(len(bars)))
    heights, bottoms, striped = ([b[i] for b in bars] for i in range(3))
    with matplotlib.rc_context(draw.RC):
        axes = []
        for ours in (False, True):
            ax = Figure().subplots()
            ax.axhline(1.0, label="a line")  # drawn after the bars, listed before them (as Axes.bar does)
            if ours:
                draw._bars(ax, x, heights, bottoms, width, "bars", "#0072b2", striped)
            else:
                ax.bar(x, heights, bottom=bottoms, width=width, label="bars", color="#0072b2", linewidth=0,
                       hatch=["///" if s else "" for s in striped])
            axes.append(ax)
        reference, mine = axes
        assert mine.get_xlim() == pytest.approx(reference.get_xlim())
        assert mine.get_ylim() == pytest.approx(reference.get_ylim())
        assert mine.get_legend_handles_labels()[1] == reference.get_legend_handles_labels()[1] == ["a line", "bars"]
        first = reference.get_legend_handles_labels()[0][1].patches[0]
        assert (mine.get_legend_handles_labels()[0][1].patches[0].get_hatch() or None) == (first.get_hatch() or None)

        def rectangles(ax, hatch):
            # each bar's corners, left to right (a bar's edges are summed in another order than Axes.bar's:
            # compared to a billionth, not to the last bit)
            out = []
            for patch in ax.patches:
                if (patch.get_hatch() or None) != hatch:
                    continue
                path = patch.get_path().transformed(patch.get_patch_transform())
                for poly in path.to_polygons(closed_only=False):
                    out.append((float(poly[:, 0].min()), float(poly[:, 1].min()),
                                float(poly[:, 0].max()), float(poly[:, 1].max())))
            return [v for corners in sorted(out) for v in corners]

        for hatch in (None, "///"):
            assert rectangles(mine, hatch) == pytest.approx(rectangles(reference, hatch), rel=1e-12, abs=1e-9)


font_props = st.builds(lambda size, weight, style: FontProperties(family="sans-serif", size=size, weight=weight,
                                                                  style=style),
                       st.sampled_from([6.0, 9.0, 9.5, 14.0]), st.sampled_from(["normal", "bold"]),
                       st.sampled_from(["normal", "italic"]))


@settings(max_examples=60, deadline=None)
@given(text=st.text(st.characters(codec="latin-1", categories=("L", "N", "P", "Zs")), max_size=30),
       prop=font_props)  # (one line: a Text measures each of its lines on its own)
def test_the_shared_text_metrics_are_what_a_fresh_svg_renderer_measures(text, prop):
    fresh = RendererSVG(100, 100, io.StringIO())
    expected = fresh.get_text_width_height_descent(text, prop, False)
    assert text_metrics.svg_metrics(text, prop.copy(), False) == expected
    # as savefig asks for them: through the mixed-mode renderer that wraps the SVG one
    mixed = MixedModeRenderer(Figure(dpi=72), 1, 1, 72, RendererSVG(72, 72, io.StringIO()))
    assert mtext._get_text_metrics_with_cache(mixed, text, prop, False, 72) == expected


LAYOUT_CHOICES = {"text": ["1 Dec", "Research\n& Dev", "a $b$", ""], "fontsize": [9.0, 14.0],
                  "fontweight": ["normal", "bold"], "ha": ["left", "center", "right"],
                  "va": ["top", "bottom", "center", "baseline", "center_baseline"], "rotation": [0.0, 90.0, 33.0],
                  "rotation_mode": ["default", "anchor"], "multialignment": [None, "right"],
                  "linespacing": [None, 1.6], "parse_math": [False, True]}


@settings(max_examples=60, deadline=None)
@given(base=st.fixed_dictionaries({name: st.sampled_from(values) for name, values in LAYOUT_CHOICES.items()}))
def test_a_kept_layout_is_the_one_matplotlib_makes(base):
    # A text is laid out (and its layout kept), then the same text with one property changed, for each property
    # in turn: a property left out of the layout's key would hand the second text the first one's layout. Each
    # is laid out twice (the second time from the cache) and compared with Matplotlib's own layout.
    fig = Figure(dpi=72)
    mixed = MixedModeRenderer(fig, 1, 1, 72, RendererSVG(72, 72, io.StringIO()))
    variants = [base] + [{**base, name: other} for name, values in LAYOUT_CHOICES.items()
                         for other in values if other != base[name]]
    for props in variants:
        made = mtext.Text(0, 0, **props)
        made.set_figure(fig)
        expected = text_metrics._OWN_LAYOUT(made, mixed)
        for _ in range(2):
            bbox, lines, corner = made._get_layout(mixed)
            assert (bbox.bounds, lines, corner) == (expected[0].bounds, expected[1], expected[2]), props
            bbox.x0 = -1e6  # a caller's changes to its box must not reach the next one


def test_a_chart_drawn_again_measures_and_lays_out_no_text_again():
    # the shortcuts must stay installed: if Matplotlib stopped calling the patched functions (or a save measured
    # through another renderer), the second drawing would lay out or measure its texts again
    args = {"cycles": cycles(5), "utilization": [0.5, 0.9, 0.3, 1.2, 0.7], "upgrade": 0.8, "downgrade": 0.6,
            "in_progress": True}
    first = draw.draw("utilization_bars", args)
    asked, laid_out, own = [], [], text_metrics._OWN_LAYOUT
    with pytest.MonkeyPatch.context() as m:
        m.setattr(mtext.Text, "_get_layout", lambda text, r: asked.append(text) or text_metrics._layout(text, r))
        m.setattr(text_metrics, "_OWN_LAYOUT", lambda text, r: laid_out.append(text) or own(text, r))
        before = text_metrics.svg_metrics.cache_info()
        assert draw.draw("utilization_bars", args) == first
        after = text_metrics.svg_metrics.cache_info()
    assert after.misses == before.misses
    assert len(asked) > 20 and not laid_out  # ticks, labels, legend entries, "so far": two drawings' worth


def test_the_collector_waits_while_a_chart_is_drawn_and_only_then():
    seen = []

    def failing_chart(**_args):
        seen.append(gc.isenabled())
        raise RuntimeError("a chart that fails")

    with pytest.MonkeyPatch.context() as m:
        m.setitem(draw.FUNCTIONS, "failing_chart", failing_chart)
        assert gc.isenabled()
        with pytest.raises(RuntimeError):
            draw.draw("failing_chart", {})
        assert seen == [False] and gc.isenabled()  # collecting again after the chart, even one that failed
        gc.disable()  # a caller that turned it off keeps it off
        try:
            with pytest.raises(RuntimeError):
                draw.draw("failing_chart", {})
            assert not gc.isenabled()
        finally:
            gc.enable()
