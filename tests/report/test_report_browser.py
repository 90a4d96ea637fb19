"""The report of a small run, rendered in headless Chromium (Debian's, never a downloaded one).

Checks what a reader sees: no element overflows its box or hides content in a scroll box,
every chart has a title and axis labels with units (in its caption, read off the figure), the
sections come top-down (work list, early warning, ..., model), and no raw name or
badly formatted number is shown. Saves the first screen to docs/report-first-screen.png.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loanrecovery.cli import app

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "report-first-screen.png"
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() or shutil.which("chromium") is None,
    reason="Debian's chromium is not installed (make install installs it)",
)
runner = CliRunner()

_OVERFLOW_JS = """
() => {
  const bad = [];
  for (const el of document.querySelectorAll('main *')) {
    const style = getComputedStyle(el);
    const scrolls = ['auto', 'scroll', 'hidden'].includes(style.overflowX);
    if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0 &&
        (scrolls || ['SECTION', 'MAIN', 'TD', 'TH', 'P', 'LI'].includes(el.tagName))) {
      bad.push(el.tagName + ' ' + el.scrollWidth + '>' + el.clientWidth + ': ' +
               (el.textContent || '').slice(0, 60));
    }
  }
  for (const section of document.querySelectorAll('section')) {
    const box = section.getBoundingClientRect();
    for (const el of section.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && (r.right > box.right + 1 || r.left < box.left - 1)) {
        bad.push('outside ' + section.id + ': ' + el.tagName + ' ' +
                 (el.textContent || el.getAttribute('alt') || '').slice(0, 60));
      }
    }
  }
  return bad;
}
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("report")
    book = base / "book"
    args = ["simulate", "--loans", "500", "--months", "18", "--seed", "7", "--out", str(book)]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    out = base / "out"
    done = runner.invoke(app, ["run", "--data", str(book), "--out", str(out)])
    assert done.exit_code == 0, done.output
    return out / "report.html"


def test_report_in_headless_chromium(report: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(report.as_uri())
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))  # the first screen, as a reader opens it
            overflowing = page.evaluate(_OVERFLOW_JS)
            images = page.evaluate(
                """() => [...document.querySelectorAll('main img')].map(img => ({
                    alt: img.getAttribute('alt') || '',
                    caption: img.closest('figure')?.querySelector('figcaption')?.textContent || '',
                    loaded: img.complete && img.naturalWidth > 0}))"""
            )
            anchors = page.evaluate(
                "() => [...document.querySelectorAll('section')].map(s => s.id)"
            )
            text = page.inner_text("main")
            days = page.evaluate(
                """() => [...document.querySelectorAll('table')].flatMap(t => {
                    const head = [...t.querySelectorAll('tr:first-child th')];
                    const col = head.findIndex(h => /days past due/i.test(h.textContent));
                    if (col < 0) return [];
                    return [...t.querySelectorAll('tr')].slice(1)
                        .map(r => r.children[col]?.textContent.trim() || '');
                })"""
            )
        finally:
            browser.close()
    assert overflowing == []
    assert images
    for image in images:
        assert image["loaded"]
        caption = image["caption"]
        assert caption == image["alt"]
        match = re.fullmatch(r"(.+)\. Horizontal axis: (.+)\. Vertical axis: (.+)\.", caption)
        assert match, caption
        title, x_axis, y_axis = match.groups()
        assert title and x_axis and y_axis
        assert re.search(r"\(.+\)", x_axis + y_axis), f"no unit in {caption!r}"  # e.g. (USD)
    # top-down: what to do, who is about to default, ..., then the model and the data
    assert anchors[:2] == ["work-list", "early-warning"]
    assert anchors.index("model") > anchors.index("recovery-strategies")
    # no raw names or machine formatting shown to readers
    for raw in ("roc_auc", "Observed_Bad_Rate", "seed_rules", "0.00e+00", "1e6", "Days_Past_Due"):
        assert raw not in text, raw
    assert days and all(re.fullmatch(r"[\d,]+|–", d) for d in days), days  # never "60.000"
    assert not re.search(r"score of \d\.\d", text)  # sentences keep their breaks
    assert text.count("Effect of collection actions") <= 1
    assert SCREENSHOT.stat().st_size > 10_000
