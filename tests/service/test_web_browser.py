"""The pages in a real browser: Playwright for Python driving Debian's Chromium by its path
(nothing downloaded), against a real server on both databases.

A collector logs in, opens the top case, logs a call with a promise to pay and sees it on the
case and in the audit log; cannot open another collector's case by URL; a manager approves a
settlement, reassigns a case and has an invalid policy refused with its line. Every page is
checked for console errors, failed requests and text overflowing its box at 1366x768 and at
390 px. The screenshots in docs/ (web-queue.png, web-case.png, web-console.png) are made here.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from tests.service.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
DOCS = Path(__file__).resolve().parents[2] / "docs"
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() or shutil.which("chromium") is None,
    reason="Debian's chromium is not installed (make install installs it)",
)
WIDE, PHONE = {"width": 1366, "height": 768}, {"width": 390, "height": 844}

_OVERFLOW_JS = """
() => {
  const bad = [];
  for (const el of document.querySelectorAll('main *')) {
    if (el.closest('.table-wrap')) continue;  // wide tables scroll inside their own box
    const style = getComputedStyle(el);
    if (style.display === 'none') continue;
    if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0 &&
        ['SECTION', 'MAIN', 'P', 'LI', 'DD', 'DIV', 'FORM', 'H1', 'H2'].includes(el.tagName)) {
      bad.push(el.tagName + '.' + el.className + ' ' + el.scrollWidth + '>' + el.clientWidth +
               ': ' + (el.textContent || '').trim().slice(0, 60));
    }
  }
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width + 1) {
    bad.push('page scrolls sideways: ' + document.documentElement.scrollWidth + '>' + width);
  }
  return bad;
}
"""


class Watch:
    """Console errors and failed requests of a page."""

    def __init__(self, page: Page) -> None:
        self.problems: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.problems.append(m.text))
        page.on("pageerror", lambda e: self.problems.append(str(e)))
        page.on("requestfailed", lambda r: self.problems.append(f"failed {r.url}"))
        page.on(
            "response",
            lambda r: r.status >= 500 and self.problems.append(f"{r.status} {r.url}"),
        )


def _login(page: Page, base: str, name: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")


def _overflow(page: Page, url: str) -> dict[str, list[str]]:
    found = {}
    for label, size in (("1366", WIDE), ("390", PHONE)):
        page.set_viewport_size(size)
        page.goto(url)
        bad = page.evaluate(_OVERFLOW_JS)
        if bad:
            found[label] = bad
    page.set_viewport_size(WIDE)
    return found


def test_collector_and_manager_work_in_chromium(web):
    base = web.server.url
    with web.client("collector2") as api:
        theirs = api.get("/queue").json()[0]
    with web.client("collector") as api:
        queue = api.get("/queue").json()
        balance_case = queue[5]
    with web.client("manager") as api:
        balance = api.get(f"/loans/{balance_case['loan_id']}").json()["outstanding"]
    with web.client("collector") as api:
        pending = api.post(f"/cases/{balance_case['case_id']}/settlements",
                           json={"amount": round(balance * 0.55, 2)}).json()  # fmt: skip
    assert pending["status"] == "Pending"
    today = datetime.now(UTC).date().isoformat()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport=WIDE)
            watch = Watch(page)
            _login(page, base, "collector")
            assert page.url.endswith("/work")
            page.screenshot(path=str(DOCS / "web-queue.png"))
            top = page.locator("table.queue tbody tr").first.get_by_role("link")
            loan_id = top.inner_text()
            assert loan_id == queue[0]["loan_id"]
            top.click()
            page.wait_for_load_state("networkidle")
            allowed = page.locator("#contact-rule").inner_text().startswith("Contact allowed")
            form = page.get_by_role("form", name="Log a call")
            form.get_by_label("Channel").select_option("phone" if allowed else "letter")
            form.get_by_label("Outcome").select_option("promise to pay")
            form.get_by_label("Promise date (if promised)").fill(today)
            form.get_by_label("Promise amount").fill("42.50")
            form.get_by_label("Note").fill("borrower will pay on payday")
            form.get_by_role("button", name="Log call").click()
            page.locator("#action-message").wait_for()
            assert page.locator("#action-message").inner_text() == (
                "Call logged with a promise to pay"
            )
            assert "42.50" in page.locator("#promises").inner_text()
            assert "borrower will pay on payday" in page.locator("#activities").inner_text()
            page.reload()
            assert "42.50" in page.locator("#promises").inner_text()
            page.screenshot(path=str(DOCS / "web-case.png"), full_page=True)
            case_url = page.url
            page.goto(f"{base}/cases/{theirs['case_id']}")
            assert page.get_by_role("heading", name="Not allowed").is_visible()
            assert theirs["loan_id"] not in page.content()
            problems = {u: _overflow(page, u) for u in (base + "/work", case_url)}
            collector_problems = list(watch.problems)

            manager = browser.new_page(viewport=WIDE)
            mwatch = Watch(manager)
            _login(manager, base, "manager")
            assert manager.url.endswith("/console")
            manager.screenshot(path=str(DOCS / "web-console.png"), full_page=True)
            manager.get_by_role(
                "button", name=f"Approve settlement of {pending['loan_id']}"
            ).click()
            manager.wait_for_load_state("networkidle")
            assert "approved" in manager.get_by_role("status").inner_text()
            reassign = manager.get_by_role("form", name="Reassign a case")
            reassign.get_by_label("Loan_ID").fill(theirs["loan_id"])
            reassign.get_by_label("To").select_option(label="collector")
            reassign.get_by_role("button", name="Reassign").click()
            manager.wait_for_load_state("networkidle")
            assert "reassigned" in manager.get_by_role("status").inner_text()
            manager.goto(base + "/policy")
            text = manager.get_by_label("Policy", exact=False).input_value()
            manager.get_by_label("Policy", exact=False).fill(
                text + '\n[[rule]]\nname = "bad"\naction = "Carrier pigeon"\n'
            )
            manager.get_by_role("button", name="Validate and save").click()
            error = manager.locator("#policy-error").inner_text()
            assert "Not saved" in error and "line" in error
            manager.goto(base + "/audit?actor=collector&action=promise.created")
            assert manager.locator("#audit tbody tr").count() >= 1
            problems |= {base + "/console": _overflow(manager, base + "/console")}
            manager_problems = list(mwatch.problems)
        finally:
            browser.close()
    with web.client("collector") as api:
        mine = {c["loan_id"] for c in api.get("/queue", params={"limit": 1000}).json()}
    assert theirs["loan_id"] in mine
    assert {u: p for u, p in problems.items() if p} == {}
    # the one expected failure: the 403 page of another collector's case
    assert [p for p in collector_problems if "403" not in p] == []
    # the one expected failure: the refused policy answers 422
    assert [p for p in manager_problems if "422" not in p] == []
