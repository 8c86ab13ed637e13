"""Each text of the charts measured and laid out once per process, not once per save.

Matplotlib caches text metrics per renderer, and every `savefig` makes a new renderer, so each tick
label, legend entry and annotation was measured again (a FreeType layout) at every save: about a tenth
of drawing a chart, for texts that mostly repeat from chart to chart ("1 Dec", "2,000", "even pace").
The SVG renderer measures with a `TextToPath` that holds no state of its own (its size and dpi are
fixed), so its metrics depend on the text, the font properties and the math flag only: one cache for
the whole process gives exactly the numbers a fresh renderer would. Other renderers keep Matplotlib's
own cache. Matplotlib's text and offsetbox modules look the function up at each call, the seam its own
test suite patches for fixed metrics.

A text's layout (its box and its lines' offsets from the anchor, before the anchor is placed) follows from
those metrics and a few of the text's properties: it is kept too, keyed on every property
`Text._get_layout` reads, for unwrapped texts without TeX drawn by the SVG renderer. Laying a text out
again took a tenth of a chart. tests/test_charts.py compares both with Matplotlib's own.
"""

from __future__ import annotations

import functools
from typing import Any

from matplotlib import text as mtext
from matplotlib.backends.backend_svg import RendererSVG
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath
from matplotlib.transforms import Bbox

_MEASURE = TextToPath()
_PER_RENDERER = mtext._get_text_metrics_with_cache
_OWN_LAYOUT = mtext.Text._get_layout
_LAYOUTS: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_MOST_LAYOUTS = 16384


@functools.lru_cache(maxsize=16384)
def svg_metrics(text: str, prop: FontProperties, ismath: Any) -> tuple[float, float, float]:
    """Width, height and descent in points of a text as the SVG writer measures it (`prop`: a copy, never
    changed afterwards: FontProperties hash by their mutable state)."""
    return _MEASURE.get_text_width_height_descent(text, prop, ismath)


def _is_svg(renderer: Any) -> bool:
    # savefig draws through a MixedModeRenderer, which measures with the renderer it currently holds
    # (the SVG one, or Agg while rasterizing); a subclass of RendererSVG might measure differently.
    return type(renderer) is RendererSVG or type(getattr(renderer, "_renderer", None)) is RendererSVG


def _metrics(renderer: Any, text: str, prop: FontProperties, ismath: Any, dpi: float) -> tuple[float, float, float]:
    if _is_svg(renderer):
        return svg_metrics(text, prop.copy(), ismath)
    return _PER_RENDERER(renderer, text, prop, ismath, dpi)


def _layout(self: mtext.Text, renderer: Any) -> tuple[Any, ...]:
    if self.get_wrap() or self.get_usetex() or not _is_svg(renderer):
        return _OWN_LAYOUT(self, renderer)
    # Everything Matplotlib's _get_layout reads of the text (its metrics come from svg_metrics above).
    key = (self.get_text(), self._fontproperties, self.get_figure(root=True).dpi, self._parse_math,
           self._linespacing, self._get_multialignment(), self.get_rotation(), self.get_rotation_mode(),
           self._horizontalalignment, self._verticalalignment)
    known = _LAYOUTS.get(key)
    if known is None:
        bbox, lines, corner = _OWN_LAYOUT(self, renderer)
        if len(_LAYOUTS) >= _MOST_LAYOUTS:
            _LAYOUTS.clear()
        # kept under a copy of the font properties (they hash by their state, which the text may change)
        known = _LAYOUTS[(key[0], key[1].copy(), *key[2:])] = (bbox.get_points().copy(), tuple(lines), corner)
    points, lines, corner = known
    return Bbox(points.copy()), list(lines), corner  # (a Bbox is mutable: each caller gets its own)


def share_svg_metrics() -> None:
    """Measure and lay out SVG text through the process-wide caches (idempotent)."""
    mtext._get_text_metrics_with_cache = _metrics
    mtext.Text._get_layout = _layout  # type: ignore[method-assign]
