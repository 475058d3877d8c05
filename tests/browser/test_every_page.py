"""Every page for every role (tests/browser/pages.py), at a laptop's and a phone's width:

- no horizontal page scroll at 390×844 (`scrollWidth <= innerWidth`),
- zero serious or critical axe-core violations (static/vendor/axe-core, tests only),
- on a page whose task is a form (Page.focus), the focus on arrival is its first field,
- a screenshot of each under tests/artifacts/pages/ for a person to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.pages import PAGES, ROLE_USERS
from tests.browser_support import ARTIFACTS, CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM, reason="no chromium binary (set CHROMIUM_PATH)"),
]

AXE = Path(__file__).resolve().parents[2] / "static" / "vendor" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}
BLOCKING = ("serious", "critical")

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => ["serious", "critical"].includes(v.impact))
    .map((v) => ({id: v.id, impact: v.impact, count: v.nodes.length,
                  nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ") + " — " +
                    n.failureSummary.split("\\n").slice(1, 2).join(""))}));
}"""


def overflow(page) -> dict:
    """How far the page scrolls sideways, and which elements stick out (for the report)."""
    return page.evaluate(
        """() => {
      const width = window.innerWidth;
      const wide = [...document.querySelectorAll("body *")]
        .filter((el) => el.getBoundingClientRect().right > width + 1)
        .filter((el) => !el.closest(".table-wrap") || el.matches(".table-wrap"))
        .slice(0, 5)
        .map((el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
             (typeof el.className === "string" ? "." + el.className.trim() : "") +
             " → " + Math.round(el.getBoundingClientRect().right));
      return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width, wide};
    }"""
    )


def visit(page, path: str, ready: str) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    page.locator(ready).first.wait_for(state="attached")


@pytest.fixture
def demo_world(transactional_db):
    from deals import demo

    demo.demo_seed(deals=40)


def test_every_page_fits_a_phone_and_passes_axe_for_every_role(
    browser, live_server, demo_world, login
):
    from winwin_crm.accounts.models import User

    out = ARTIFACTS / "pages"
    out.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    visited = 0
    for role, pages in PAGES.items():
        # axe-core is injected by the test, not served by the app: the CSP (scripts from
        # 'self' only, no inline script) rightly refuses it, so the test bypasses it.
        context = browser.new_context(
            bypass_csp=True,
            base_url=live_server.url,
            viewport={"width": 1280, "height": 800},
            locale="en-GB",
        )
        context.set_default_timeout(15_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        if role in ROLE_USERS:
            login(page, User.objects.get(username=ROLE_USERS[role]), password="winwin-demo")
        for spec in pages:
            path = spec.path()
            for width_name, (width, height) in WIDTHS.items():
                page.set_viewport_size({"width": width, "height": height})
                visit(page, path, spec.ready)
                visited += 1
                where = f"{role} {spec.name} ({path}) at {width}px"
                if spec.focus and width_name == "desktop":
                    focused = page.evaluate(
                        "(s) => [document.activeElement.matches(s),"
                        " document.activeElement.outerHTML.slice(0, 120)]",
                        spec.focus,
                    )
                    if not focused[0]:
                        problems.append(f"{where}: focus is on {focused[1]}, not {spec.focus}")
                page.evaluate("window.scrollTo(0, 0)")
                page.screenshot(path=str(out / f"{role}-{spec.name}-{width}.png"), full_page=True)
                if width_name == "phone":
                    sizes = overflow(page)
                    if sizes["scrollWidth"] > sizes["innerWidth"]:
                        problems.append(f"{where}: scrolls sideways {sizes}")
                page.add_script_tag(path=str(AXE))
                for violation in page.evaluate(AXE_RUN):
                    problems.append(f"{where}: axe {violation}")
        if errors:
            problems.append(f"{role}: JavaScript errors {errors}")
        context.close()
    assert visited == 2 * sum(len(pages) for pages in PAGES.values())
    assert not problems, "\n".join(problems)
