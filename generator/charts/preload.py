"""What the chart workers' forkserver imports before it forks them (charts/cache.py): the drawing code.

If it cannot be imported (a broken Matplotlib), the server still starts; the workers then fail to draw,
and the build draws in its own process, which reports the error once, with its traceback.
"""

import contextlib

with contextlib.suppress(Exception):
    import generator.charts.draw  # noqa: F401
