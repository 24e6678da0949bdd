"""Fixtures of the site tests: build the book once, serve it, and browse it with Chromium.

- ``site_build`` (session): ``jupyter-book build . -W --keep-going``; a failed build fails every
  site test with the end of the build log (the whole log is ``_build/site-build.log``).
- ``site_url`` (session): ``_build/html`` served by ``http.server`` in a thread, on an
  ephemeral port of 127.0.0.1.
- ``browser`` (session): Debian's Chromium (``/usr/bin/chromium``) driven by Playwright. Where
  it is missing, the browser tests skip and say how to install it; nothing else skips.
- ``visit``: opens a URL in a fresh browser context and records every console error, page
  error, failed or refused request (:class:`Visit`).

Test parameters come from ``_toc.yml`` at collection time: ``toc_page`` is every page of the
table of contents, ``chapter`` every chapter notebook among them, ``dark_page`` the root page
and the chapters.
"""

from __future__ import annotations

import functools
import http.server
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.site.sitekit import BUILD, BUILD_LOG, DESKTOP, HTML, ROOT, SHOTS, toc_pages

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The site must work offline; the only outside resource a page may ask for is MathJax (Sphinx
# loads it from its CDN on pages with math). The tests answer it with an empty script.
ALLOWED_EXTERNAL = ("https://cdn.jsdelivr.net/npm/mathjax@",)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Skip even importing the site tests when the run's ``-m`` expression excludes them
    (``make cpu``: ``-m "not site"``; the GPU machine, which has no book toolchain, runs so)."""
    markexpr = config.option.markexpr
    if not markexpr or collection_path.suffix != ".py":
        return None
    try:
        from _pytest.mark.expression import Expression

        selects_site = Expression.compile(markexpr).evaluate(lambda name, **_: name == "site")
    except Exception:  # pytest internals changed: collect as usual
        return None
    return None if selects_site else True


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    pages = toc_pages()
    if "toc_page" in metafunc.fixturenames:
        metafunc.parametrize("toc_page", pages, ids=str)
    chapters = [p for p in pages if p.is_chapter]
    if "chapter" in metafunc.fixturenames:
        metafunc.parametrize("chapter", chapters, ids=str)
    if "dark_page" in metafunc.fixturenames:  # the root page and every chapter
        metafunc.parametrize("dark_page", pages[:1] + chapters, ids=str)


# --- Build and serve ------------------------------------------------------------------------


def strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


@pytest.fixture(scope="session")
def site_build() -> str:
    """Build the book once per session; return the build log (colour codes removed)."""
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", ".", "-W", "--keep-going"]
    proc = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False
    )
    log = strip_ansi(proc.stdout + proc.stderr)
    BUILD.mkdir(exist_ok=True)
    BUILD_LOG.write_text(log, encoding="utf-8")
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} failed (exit {proc.returncode}); full log in {BUILD_LOG}:\n"
            + log[-6000:],
            pytrace=False,
        )
    return log


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def site_url(site_build: str) -> Iterator[str]:
    """The base URL (ending in /) of ``_build/html``, served for the whole session."""
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


# --- The browser ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} not found: the browser tests need Debian's package `chromium` "
            "(apt-get install -y chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Visit:
    """One page opened in its own browser context, with everything that went wrong on it."""

    page: Any
    problems: list[str] = field(default_factory=list)
    responses: list[Any] = field(default_factory=list)  # every Playwright Response, in order

    def evaluate(self, script: str, arg: Any = None) -> Any:
        return self.page.evaluate(script, arg)

    def show_first(self, selector: str) -> None:
        """Scroll the first element matching ``selector`` into view, if there is one."""
        found = self.page.locator(selector)
        if found.count():
            found.first.scroll_into_view_if_needed(timeout=10_000)

    def screenshot(self, name: str, **kwargs: Any) -> Path:
        path = SHOTS / name
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), **kwargs)
        return path


def _watch(page: Any, base: str, problems: list[str], responses: list[Any]) -> None:
    def on_console(message: Any) -> None:
        if message.type == "error":
            problems.append(f"console error: {message.text} ({message.location.get('url')})")

    def on_response(response: Any) -> None:
        responses.append(response)
        if response.status >= 400:
            problems.append(f"HTTP {response.status}: {response.url}")

    def on_route(route: Any) -> None:
        url = route.request.url
        if url.startswith(base) or url.startswith("data:"):
            route.continue_()
        elif url.startswith(ALLOWED_EXTERNAL):
            route.fulfill(status=200, content_type="application/javascript", body="")
        else:
            problems.append(f"request outside the site (the book must work offline): {url}")
            route.fulfill(status=200, body="")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url} ({r.failure})"))
    page.on("response", on_response)
    page.route("**/*", on_route)


@pytest.fixture(scope="session")
def visit(browser: Any, site_url: str) -> Iterator[Any]:
    """``visit(path, viewport=DESKTOP, dark=False, fresh=False)``: ``site_url + path`` opened in
    its own browser context, after it and its images have loaded. Each (path, viewport, dark) is
    loaded once per session and shared by the tests that read it; ``fresh=True`` opens a page
    of its own, for a test that clicks, navigates or measures a first visit."""
    visits: dict[tuple[str, str, bool], Visit] = {}
    contexts: list[Any] = []

    def open_page(
        path: str, viewport: dict[str, int] = DESKTOP, dark: bool = False, fresh: bool = False
    ) -> Visit:
        key = (path, f"{viewport['width']}x{viewport['height']}", dark)
        if key in visits and not fresh:
            return visits[key]
        phone = viewport["width"] < 600
        context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
        contexts.append(context)
        if dark:
            # The theme's own mechanism: its switcher stores the choice in localStorage.
            context.add_init_script(
                "localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark');"
            )
        page = context.new_page()
        visit = Visit(page)
        if not fresh:
            visits[key] = visit
        _watch(page, site_url, visit.problems, visit.responses)
        response = page.goto(site_url + path, wait_until="load")
        if response is None or not response.ok:
            visit.problems.append(f"could not load {path}: {response and response.status}")
        page.evaluate(WAIT_FOR_IMAGES)
        page.wait_for_load_state("networkidle")
        return visit

    yield open_page
    for context in contexts:
        context.close()


# Loads images marked lazy too, and waits until every image has loaded or failed.
WAIT_FOR_IMAGES = """async () => {
  const images = [...document.images];
  for (const img of images) img.loading = "eager";
  await Promise.all(images.map((img) => img.complete ? null : new Promise((done) => {
    img.addEventListener("load", done, {once: true});
    img.addEventListener("error", done, {once: true});
  })));
}"""
