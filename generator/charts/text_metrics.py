"""Each text of the charts measured once per process, not once per save.

Matplotlib caches text metrics per renderer, and every `savefig` makes a new renderer, so each tick
label, legend entry and annotation was measured again (a FreeType layout) at every save: about a tenth
of drawing a chart, for texts that mostly repeat from chart to chart ("1 Dec", "2,000", "even pace").
The SVG renderer measures with a `TextToPath` that holds no state of its own (its size and dpi are
fixed), so its metrics depend on the text, the font properties and the math flag only: one cache for
the whole process gives exactly the numbers a fresh renderer would. Other renderers keep Matplotlib's
own cache. Matplotlib's text and offsetbox modules look the function up at each call, the seam its own
test suite patches for fixed metrics.
"""

from __future__ import annotations

import functools
from typing import Any

from matplotlib import text as mtext
from matplotlib.backends.backend_svg import RendererSVG
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

_MEASURE = TextToPath()
_PER_RENDERER = mtext._get_text_metrics_with_cache


@functools.lru_cache(maxsize=16384)
def svg_metrics(text: str, prop: FontProperties, ismath: Any) -> tuple[float, float, float]:
    """Width, height and descent in points of a text as the SVG writer measures it (`prop`: a copy, never
    changed afterwards: FontProperties hash by their mutable state)."""
    return _MEASURE.get_text_width_height_descent(text, prop, ismath)


def _metrics(renderer: Any, text: str, prop: FontProperties, ismath: Any, dpi: float) -> tuple[float, float, float]:
    # savefig draws through a MixedModeRenderer, which measures with the renderer it currently holds
    # (the SVG one, or Agg while rasterizing); a subclass of RendererSVG might measure differently.
    if type(renderer) is RendererSVG or type(getattr(renderer, "_renderer", None)) is RendererSVG:
        return svg_metrics(text, prop.copy(), ismath)
    return _PER_RENDERER(renderer, text, prop, ismath, dpi)


def share_svg_metrics() -> None:
    """Measure SVG text through the process-wide cache (idempotent)."""
    mtext._get_text_metrics_with_cache = _metrics
