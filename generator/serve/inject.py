"""What the preview server adds to the HTML it serves: the live-reload script and the error overlay.

Only served responses carry these; the built site (`creditwise build`) never does.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from generator.errors import Problem

EVENTS_PATH = "/__creditwise/events"

# Server-Sent Events rather than a WebSocket: the page only ever listens (one message, "build N is
# ready"), EventSource reconnects by itself after a server restart, and the standard library's
# http.server can stream it. Every message carries the id of the build being served; a page reloads
# when it differs from the build it came from, so a rebuild missed while the tab was hidden or the
# server was down is caught up on connect. The connection is closed while the tab is hidden (a
# browser allows about 6 connections per host) and reopened when shown. The scroll position is kept
# in sessionStorage across the reload.
RELOAD_SCRIPT = """<script id="creditwise-live-reload" data-build="{build}">
(() => {{
  const build = document.currentScript.dataset.build;
  const key = "creditwise-scroll:" + location.pathname;
  const saved = sessionStorage.getItem(key);
  if (saved) {{
    sessionStorage.removeItem(key);
    const [x, y] = JSON.parse(saved);
    const restore = () => window.scrollTo(x, y);
    restore();
    window.addEventListener("load", restore);
  }}
  let source = null;
  let retry = null;
  function open() {{
    if (source || document.hidden) return;
    source = new EventSource("{events}");
    source.addEventListener("build", (event) => {{
      if (event.data === build) return;
      sessionStorage.setItem(key, JSON.stringify([window.scrollX, window.scrollY]));
      close();
      location.reload();
    }});
    source.onerror = () => {{
      // EventSource retries by itself unless the server answered with an error: then try again later.
      if (source && source.readyState === EventSource.CLOSED) {{ source = null; retry = setTimeout(open, 1000); }}
    }};
  }}
  function close() {{
    clearTimeout(retry);
    if (source) {{ source.close(); source = null; }}
  }}
  document.addEventListener("visibilitychange", () => (document.hidden ? close() : open()));
  window.addEventListener("pagehide", close);
  window.addEventListener("pageshow", open);  // back from the back-forward cache
  open();
}})();
</script>
"""

OVERLAY = """<div id="creditwise-build-error" role="alertdialog" aria-labelledby="creditwise-build-error-title" \
style="position:fixed;inset:0;z-index:2147483647;overflow:auto;background:rgba(24,24,27,.88);\
font:15px/1.5 system-ui,sans-serif;color:#18181b">
<div style="max-width:56rem;margin:8vh auto;padding:1.25rem 1.5rem;background:#fff;border-top:6px solid #c62828;\
border-radius:6px;box-shadow:0 8px 32px rgba(0,0,0,.4)">
<h2 id="creditwise-build-error-title" style="margin:0 0 .5rem;font-size:1.2rem;color:#b71c1c">{title}</h2>
<ul style="margin:0;padding-left:1.25rem;font:14px/1.5 ui-monospace,SFMono-Regular,Menlo,monospace">
{items}
</ul>
<p style="margin:.75rem 0 0;color:#52525b">{note}
<button type="button" onclick="this.closest('#creditwise-build-error').remove()" \
style="margin-left:.5rem;font:inherit">Hide</button></p>
</div>
</div>
"""


def overlay(problems: Sequence[Problem], have_site: bool) -> str:
    items = "\n".join(f'<li class="creditwise-problem">{html.escape(str(p))}</li>' for p in problems)
    note = ("Underneath is the last good build. Fix the file and save: this page reloads by itself."
            if have_site else "There is no good build to show yet. Fix the file and save: this page reloads by itself.")
    return OVERLAY.format(title="The site did not build", items=items, note=note)


def inject(page: bytes, build_id: str, problems: Sequence[Problem], have_site: bool = True) -> bytes:
    """The page with the overlay (if the last build failed) and the reload script before `</body>`."""
    extra = (overlay(problems, have_site) if problems else "") + RELOAD_SCRIPT.format(
        build=html.escape(build_id), events=EVENTS_PATH)
    data = extra.encode("utf-8")
    at = page.lower().rfind(b"</body>")
    return page + data if at < 0 else page[:at] + data + page[at:]


def fallback_page(title: str, message: str) -> bytes:
    """A page for when the site has none to offer: nothing built yet, or a 404 without the site's 404.html."""
    return (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
            f'</head>\n<body>\n<h1>{html.escape(title)}</h1>\n<p>{html.escape(message)}</p>\n'
            f'<p><a href="/">Overview</a></p>\n</body>\n</html>\n').encode()
