"""examples/widgets.ipynb exported to HTML with its widget state renders with no kernel.

The page loads every widget front-end from a CDN by semver range, as Colab, VS Code and
nbviewer do; here each request is answered from ``npm pack`` of exactly that range
(tests/browser/cdn.py). This is the test that catches a Python package asking for a
front-end version that npm never had (as bqplot 0.13.x did, bqplot #1706).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.browser.cdn import NpmCdn
from tests.browser.pictures import SLIDE, open_page
from tests.browser.styles import expect_stylesheets_apply
from tests.notebooks import execute_notebook

# The slide command docs/widgets.md gives (less --execute: the notebook is executed above)
SLIDES = [
    "--no-prompt",
    "--TagRemovePreprocessor.remove_input_tags=hide-input",
    "--SlidesExporter.reveal_width=1280",
    "--SlidesExporter.reveal_height=720",
    "--SlidesExporter.reveal_scroll=True",
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import nbformat

    workdir = tmp_path_factory.mktemp("export")
    notebook = execute_notebook("widgets.ipynb", workdir, timeout=300, store_widget_state=True)
    executed = workdir / "executed.ipynb"
    nbformat.write(notebook, executed)
    for kind, options in (("html", []), ("slides", SLIDES)):
        subprocess.run(
            [sys.executable, "-m", "jupyter", "nbconvert", "--to", kind, str(executed), "--output", "widgets", *options],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    return workdir / "widgets.html"


def _open(browser: Any, html: Path) -> tuple[Any, NpmCdn, list[str]]:
    """The page with every console error collected (the html-manager's local probes aside)."""
    page, cdn, errors = open_page(browser, html, viewport={"width": 1280, "height": 900})
    return page, cdn, errors


def test_every_widget_renders_and_steps_without_a_kernel(browser: Any, exported: Path, artifacts: Path) -> None:
    import anywidget
    from playwright.sync_api import expect

    page, cdn, errors = _open(browser, exported)
    try:
        expect(page.locator(".ipytune-coverage")).to_have_count(2, timeout=60_000)
        expect(page.locator(".ipytune-gp")).to_have_count(3)
        expect(page.locator(".ipytune-dashboard")).to_have_count(2)  # the live GP search + tpe_search.dashboard()
        expect(page.locator(".ipytune-parcoords")).to_have_count(2)
        expect(page.locator(".ipytune-curves")).to_have_count(2)
        expect(page.locator(".ipytune-coverage .ipytune-sample").first).to_be_visible()
        expect(page.locator(".ipytune-parcoords").last.locator("tr.ipytune-run")).to_have_count(10)
        expect(page.locator(".ipytune-curves .ipytune-curve").first).to_be_attached()
        assert page.get_by_text("javascript error").count() == 0, "a widget failed to load its front-end"
        expect_stylesheets_apply(page)  # the stylesheets travel in the widget state too

        # Step with no kernel: the frames are in the widget state
        gp = page.locator(".ipytune-gp").first
        label = gp.locator(".ipytune-frame-label")
        before = label.inner_text()
        gp.locator(".ipytune-step").click()
        expect(label).not_to_have_text(before)
        assert "step 2 /" in label.inner_text()
        page.screenshot(path=str(artifacts / "exported-html.png"), full_page=True)
        gp.screenshot(path=str(artifacts / "exported-gp-explorer.png"))

        # The budget slider too
        cov = page.locator(".ipytune-coverage").first
        expect(cov.locator(".ipytune-budget-label")).to_have_text("9 trials each")
        cov.locator(".ipytune-budget-up").click()
        expect(cov.locator(".ipytune-budget-label")).to_have_text("10 trials each")
        expect(cov.locator(".ipytune-cov-panel").last.locator(".ipytune-sample")).to_have_count(10)

        # The runs table sorts on a header click (objective: the last column), both ways
        runs = page.locator(".ipytune-parcoords").last
        header = runs.locator("th[data-key='objective']")
        for arrow, ascending in (("▲", True), ("▼", False)):
            header.click()
            expect(header).to_have_text(f"objective {arrow}")
            cells = [float(t) for t in runs.locator("tr.ipytune-run td:last-child").all_inner_texts()]
            assert len(cells) == 10
            assert cells == sorted(cells, reverse=not ascending), cells
    finally:
        page.close()

    # The ranges the CDN was asked for are exactly the ones the Python packages ask for.
    specs = set(cdn.served.values())
    assert f"anywidget@{anywidget.AnyWidget()._model_module_version}" in specs
    assert not cdn.missing, cdn.missing
    assert errors == [], errors


def test_reveal_slides_play_without_a_kernel(browser: Any, exported: Path, artifacts: Path) -> None:
    """docs/widgets.md's slide command: reveal.js from the CDN, the explorer steps in its slide, and
    every ipytune widget lies inside the 1280x720 slide it is on, with a clean console."""
    from playwright.sync_api import expect

    page, cdn, errors = open_page(browser, exported.with_name("widgets.slides.html"), viewport=SLIDE)
    try:
        expect(page.locator(".reveal .slides")).to_be_attached(timeout=60_000)
        gp = page.locator(".ipytune-gp").first
        expect(gp.locator(".ipytune-mean")).to_be_attached(timeout=60_000)
        expect(page.locator(".ipytune-curves .ipytune-curve").first).to_be_attached(timeout=30_000)
        expect_stylesheets_apply(page)
        assert page.locator(".jp-InputArea:visible", has_text="coverage_explorer").count() == 0  # hide-input
        page.locator(".reveal").click(position={"x": 5, "y": 5})
        slides = page.evaluate(
            """() => [...document.querySelectorAll('.reveal .slides > section')]
                 .map((s) => s.querySelector('.ipytune-w') ? s.querySelectorAll(':scope > section').length || 1 : 0)"""
        )
        seen, outside, sizes = 0, [], []
        for h, inner in enumerate(slides):  # walk with the keyboard, as a lecturer would
            for v in range(max(inner, 1)):
                if h or v:
                    page.keyboard.press("ArrowDown" if v else "ArrowRight")
                boxes = _settled(page)
                if boxes:
                    page.screenshot(path=str(artifacts / f"slides-{h}-{v}.png"))
                seen += len(boxes)
                sizes += page.evaluate(TICK_PX)
                outside += [(h, v, b["widget"], round(b["top"]), round(b["bottom"])) for b in boxes if not _inside(b)]
        assert seen >= 11, seen  # every widget was on a slide we looked at
        assert outside == [], outside  # (slide, sub-slide, widget, top, bottom)
        small = [s for s in sizes if s["px"] < 15]
        assert not small, small[:5]  # tick labels at least 15 px on the slide (labels, text: 16-20)
        # the GP explorer steps in its slide, with no kernel
        page.keyboard.press("Home")
        index = page.evaluate(
            """() => [...document.querySelectorAll('.reveal .slides > section')]
                 .findIndex(s => s.querySelector('.ipytune-gp'))"""
        )
        for _ in range(index):
            page.keyboard.press("ArrowRight")
        label = gp.locator(".ipytune-frame-label")
        expect(label).to_contain_text("step 1 /")
        expect(gp.locator(".ipytune-step")).to_be_visible()
        gp.locator(".ipytune-step").click()
        expect(label).to_contain_text("step 2 /")
        page.screenshot(path=str(artifacts / "exported-slides.png"))
    finally:
        page.close()
    assert any(spec.startswith("reveal.js@") for spec in cdn.served.values())
    assert not cdn.missing, cdn.missing
    assert errors == [], errors


def _inside(box: dict[str, Any]) -> bool:
    """Within the 1280x720 slide, to a pixel."""
    fits = box["right"] <= SLIDE["width"] + 1 and box["bottom"] <= SLIDE["height"] + 1
    return fits and min(box["left"], box["top"]) >= -1


def _settled(page: Any) -> list[dict[str, Any]]:
    """The widget boxes once reveal's slide transition is over (two looks 250 ms apart agree)."""
    boxes = page.evaluate(WIDGET_BOXES)
    for _ in range(20):
        page.wait_for_timeout(250)
        again = page.evaluate(WIDGET_BOXES)
        if again == boxes:
            break
        boxes = again
    return list(boxes)


# the on-screen size of every tick label of an ipytune drawing in the current slide
TICK_PX = """() => [...document.querySelectorAll('.reveal .slides section.present .ipytune-w svg.ipytune-plot')]
  .filter((svg) => svg.getClientRects().length)
  .flatMap((svg) => {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    return [...svg.querySelectorAll('text.ipytune-tick')].map((t) => ({
      widget: svg.closest('.ipytune-w').className, px: parseFloat(getComputedStyle(t).fontSize) * scale }));
  })"""


# each visible ipytune widget in the current slide (a comparison's parts inside it count once)
WIDGET_BOXES = """() => [...document.querySelectorAll('.reveal .slides section.present .ipytune-w')]
  .filter((n) => n.getClientRects().length && !n.closest('.ipytune-compare .ipytune-compare'))
  .map((n) => { const r = n.getBoundingClientRect();
    return { widget: n.className, left: r.left, top: r.top, right: r.right, bottom: r.bottom }; })"""
