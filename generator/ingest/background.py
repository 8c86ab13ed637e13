"""Work on a DuckDB cursor of its own, in a thread of its own, while the build goes on.

DuckDB releases the GIL while a query runs, so the FOCUS export and the cache writers use the second core
while charts draw and pages render. One shape for all of them: a new cursor (the main thread keeps using
the connection), a daemon thread, the cursor closed at the end, and the outcome in a Future.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any

import duckdb


def on_own_cursor(con: duckdb.DuckDBPyConnection, job: Callable[[duckdb.DuckDBPyConnection], Any]) -> concurrent.futures.Future:
    """Start `job(cursor)` on a new cursor of `con`; the Future holds what it returned or raised."""
    future: concurrent.futures.Future = concurrent.futures.Future()
    cursor = con.cursor()

    def run() -> None:
        try:
            future.set_result(job(cursor))
        except BaseException as exc:  # the caller's result() raises it
            future.set_exception(exc)
        finally:
            cursor.close()

    threading.Thread(target=run, daemon=True).start()
    return future
