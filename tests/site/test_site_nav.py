"""Getting around the book: the ☰ menu and the "Contents" drawer on a phone, the sidebar
toggle on a desktop. Each test taps or clicks as a reader does and checks where it lands."""

from __future__ import annotations

import re

import pytest

from tests.site.sitekit import PHONE, toc_pages

pytestmark = pytest.mark.site

MENU = "#pst-primary-sidebar-modal"  # the drawer the ☰ button opens below 992 px
CONTENTS = "#pst-secondary-sidebar-modal"  # the drawer of the "Contents" button
# Is the element drawn, and how much of it is inside the window?
SHOWN = """(selector) => {
  const e = document.querySelector(selector);
  if (!e) return null;
  const box = e.getBoundingClientRect();
  const drawn = e.checkVisibility({visibilityProperty: true, opacityProperty: true});
  return {drawn, width: box.width, left: box.left, right: box.right,
          inWindow: drawn && box.width > 0 && box.right > 0 && box.left < window.innerWidth};
}"""


def chapters() -> list:
    found = [page for page in toc_pages() if page.is_chapter]
    assert len(found) >= 3, f"the tests need three chapters, _toc.yml lists {found}"
    return found


def test_phone_menu_leads_to_chapter_3(visit) -> None:
    """At 390x844: tap ☰, the menu opens with every chapter; tap chapter 3, land on it."""
    first, third = chapters()[0], chapters()[2]
    page = visit(first.html, viewport=PHONE, fresh=True)
    toggles = page.page.locator(".primary-toggle:visible")
    assert toggles.count() == 1, f"{toggles.count()} visible ☰ buttons on a phone"
    toggles.first.tap()
    menu = page.page.locator(MENU)
    menu.wait_for(state="visible", timeout=5_000)  # times out when the tap did nothing
    assert page.evaluate(SHOWN, MENU)["inWindow"], "the menu opened off-screen"
    page.screenshot("phone/menu-open.png")
    link = menu.locator(f'a.reference[href$="{third.html.split("/")[-1]}"]').first
    label = " ".join(link.inner_text().split())
    assert label.startswith("3. "), f"the menu's link to {third} reads {label!r}"
    link.tap()
    page.page.wait_for_url(re.compile(re.escape(third.html) + "$"), timeout=10_000)
    title = " ".join(page.page.locator("h1:visible").first.inner_text().split()).rstrip("#")
    assert title.strip() == label, f"landed on {page.page.url}, titled {title!r}"
    assert not page.problems, "\n".join(page.problems)


def test_phone_contents_leads_to_a_section(visit) -> None:
    """At 390x844: tap "Contents", the page's sections are listed; tap the fourth one, the
    page scrolls to it and the drawer closes."""
    page = visit(chapters()[0].html, viewport=PHONE, fresh=True)
    toggles = page.page.locator(".secondary-toggle:visible")
    assert toggles.count() == 1, f"{toggles.count()} visible Contents buttons on a phone"
    toggles.first.tap()
    drawer = page.page.locator(CONTENTS)
    drawer.wait_for(state="visible", timeout=5_000)  # times out when the tap did nothing
    assert page.evaluate(SHOWN, CONTENTS)["inWindow"], "the Contents drawer opened off-screen"
    page.screenshot("phone/contents-open.png")
    entries = drawer.locator("a.nav-link[href^='#']:visible")
    assert entries.count() >= 4, f"only {entries.count()} sections in the Contents drawer"
    target = entries.nth(3).get_attribute("href")
    entries.nth(3).tap()
    page.page.wait_for_url(re.compile(re.escape(target) + "$"), timeout=5_000)
    page.page.wait_for_timeout(300)  # smooth scrolling
    top = page.evaluate(
        "(id) => document.getElementById(id).getBoundingClientRect().top", target[1:]
    )
    assert 0 <= top < PHONE["height"] / 2, f"section {target} is at y={top}, not on screen"
    assert not page.evaluate(SHOWN, CONTENTS)["drawn"], "the drawer stayed open"
    assert not page.problems, "\n".join(page.problems)


def test_desktop_toggle_hides_and_shows_the_sidebar(visit) -> None:
    """At 1280x900 the sidebar is shown; the ☰ button hides it, and a second click brings it
    back."""
    page = visit(chapters()[0].html, fresh=True)
    sidebar = "#pst-primary-sidebar"
    assert page.evaluate(SHOWN, sidebar)["inWindow"], "no sidebar on a desktop"
    toggles = page.page.locator(".primary-toggle:visible")
    assert toggles.count() == 1, f"{toggles.count()} visible ☰ buttons on a desktop"
    toggles.first.click()
    page.page.wait_for_timeout(400)  # the sidebar slides out in 0.25 s
    hidden = page.evaluate(SHOWN, sidebar)
    page.screenshot("desktop/sidebar-hidden.png")
    assert not hidden["inWindow"], f"the sidebar is still shown after ☰: {hidden}"
    assert not page.page.locator(f"{MENU}[open]").count(), "☰ opened the phone menu"
    toggles.first.click()
    page.page.wait_for_timeout(400)
    assert page.evaluate(SHOWN, sidebar)["inWindow"], "the sidebar did not come back"
    assert not page.problems, "\n".join(page.problems)
