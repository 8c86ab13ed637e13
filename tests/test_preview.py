"""Live reload end to end, in a real headless Chromium driven by Playwright: edits on disk show in an
open page with no action in it; a broken input shows an overlay on the last good page and recovers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from preview_support import GUIDE, Server, guide_path, make_site, save_like_an_editor

CHROMIUM = "/usr/bin/chromium"  # Debian's package (.ci/run installs it); Playwright downloads no browser
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = 20_000  # upper bound for any change to show; a reload normally takes a fraction of a second


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (as .ci/run does)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1000, "height": 500})
    p = context.new_page()
    yield p
    context.close()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_site(tmp_path / "site")


@pytest.fixture
def server(site: Path) -> Iterator[Server]:
    srv = Server(site)
    yield srv
    assert srv.stop() == 0


def long_guide(text: str) -> str:
    """The test guide plus enough paragraphs to scroll."""
    return text + "\n".join(f"\nParagraph {n} of the house rules, long enough to fill the page." for n in range(80))


def test_guide_edit_shows_in_the_open_page_and_keeps_the_scroll_position(site, page):
    save_like_an_editor(guide_path(site), long_guide(GUIDE))
    srv = Server(site)
    try:
        page.goto(srv.url + "guides/house-rules/")
        article = page.locator("main")
        expect(article).to_contain_text("Edit before you regenerate")
        page.evaluate("window.scrollTo(0, 600); window.notReloadedYet = true")
        edited = GUIDE.replace("Edit before you regenerate", "Edit before you re-create")
        save_like_an_editor(guide_path(site), long_guide(edited))
        expect(article).to_contain_text("Edit before you re-create", timeout=WAIT_MS)
        assert page.evaluate("window.notReloadedYet") is None  # a real reload, made by the page itself
        page.wait_for_function("window.scrollY === 600", timeout=WAIT_MS)
    finally:
        assert srv.stop() == 0


def test_broken_site_toml_shows_an_overlay_on_the_last_good_page_then_recovers(site, server, page):
    page.goto(server.url)
    expect(page.locator("h1")).to_have_text("Overview")
    config = site / "site.toml"
    good = config.read_text()
    config.write_text(good.replace('timezone = "UTC"', 'timezone = "Mars/Olympus"'), encoding="utf-8")
    overlay = page.locator("#creditwise-build-error")
    expect(overlay).to_be_visible(timeout=WAIT_MS)
    expect(overlay).to_contain_text("site.toml:4: site.timezone")
    expect(page.locator("h1")).to_have_text("Overview")  # underneath: the last good build
    config.write_text(good, encoding="utf-8")
    expect(overlay).to_have_count(0, timeout=WAIT_MS)
    expect(page.locator("h1")).to_have_text("Overview")


def test_template_and_css_edits_show_and_a_template_error_recovers(site, server, page):
    page.goto(server.url + "plan/index.html")
    heading = page.locator("h1")
    expect(heading).to_have_text("Plan")
    base = site / "themes" / "default" / "templates" / "base.html"
    good = base.read_text()
    assert good.count("</body>") == 1
    save_like_an_editor(base, good.replace("</body>", '<p id="preview-marker">Added in the template</p>\n</body>'))
    marker = page.locator("#preview-marker")
    expect(marker).to_have_text("Added in the template", timeout=WAIT_MS)

    css = site / "themes" / "default" / "static" / "style.css"
    css.write_text(css.read_text() + "\n#preview-marker { outline: 3px solid rgb(1, 2, 3); }\n", encoding="utf-8")
    expect(marker).to_have_css("outline-color", "rgb(1, 2, 3)", timeout=WAIT_MS)

    broken = good.replace("</body>", "{{ page.title | nosuchfilter }}\n</body>")
    line = broken.splitlines().index("{{ page.title | nosuchfilter }}") + 1
    save_like_an_editor(base, broken)
    overlay = page.locator("#creditwise-build-error")
    expect(overlay).to_contain_text(f"themes/default/templates/base.html:{line}: template:", timeout=WAIT_MS)
    expect(overlay).to_contain_text("nosuchfilter")
    expect(marker).to_have_text("Added in the template")  # underneath: the last good build
    save_like_an_editor(base, good)
    expect(overlay).to_have_count(0, timeout=WAIT_MS)
    expect(marker).to_have_count(0)
    expect(heading).to_have_text("Plan")


def test_an_open_page_reconnects_after_a_server_restart(site, page):
    with socket.socket() as probe:  # a free port, so the second server can take the same one
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    first = Server(site, port=port)
    page.goto(first.url + "guides/house-rules/")
    expect(page.locator("main")).to_contain_text("Edit before you regenerate")
    assert first.stop() == 0
    save_like_an_editor(guide_path(site), GUIDE.replace("Edit before you regenerate", "Changed while stopped"))
    second = Server(site, port=port)
    try:
        expect(page.locator("main")).to_contain_text("Changed while stopped", timeout=WAIT_MS)
    finally:
        assert second.stop() == 0


TRACK_SOURCES = """
const Native = window.EventSource;
window.sources = [];
window.EventSource = class extends Native {
  constructor(...args) { super(...args); window.sources.push(this); }
};
"""
SET_HIDDEN = """hidden => {
  Object.defineProperty(document, "hidden", {value: hidden, configurable: true});
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def test_a_hidden_tab_lets_go_of_its_connection_and_catches_up_when_shown(site, server, page):
    page.add_init_script(TRACK_SOURCES)
    page.goto(server.url + "guides/house-rules/")
    page.wait_for_function("window.sources.length === 1 && window.sources[0].readyState === EventSource.OPEN",
                           timeout=WAIT_MS)
    page.evaluate(SET_HIDDEN, True)
    assert page.evaluate("window.sources.map(s => s.readyState)") == [2]  # CLOSED: no connection held while hidden
    mark = server.mark()
    save_like_an_editor(guide_path(site), GUIDE.replace("Edit before you regenerate", "Edited while hidden"))
    server.wait_for(r"re-rendered \d+ guide pages", after=mark)
    page.evaluate(SET_HIDDEN, False)  # shown again: it reconnects, sees a newer build and reloads
    expect(page.locator("main")).to_contain_text("Edited while hidden", timeout=WAIT_MS)
