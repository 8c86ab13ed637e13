"""What the chart workers' forkserver imports before it forks them (charts/cache.py): the drawing code.

The server first arranges to die with the build that started it (even by `kill -9`); its workers do the
same with it. If the drawing code cannot be imported (a broken Matplotlib), the server still starts; the
workers then fail to draw, and the build draws in its own process, which reports the error once, with
its traceback.
"""

import contextlib

from generator.charts.cache import die_with_parent

die_with_parent()
with contextlib.suppress(Exception):
    import generator.charts.draw  # noqa: F401
