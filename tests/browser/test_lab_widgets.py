"""examples/widgets.ipynb in JupyterLab, in headless chromium: every widget renders, the
front-end controls work, and what the front-end does reaches Python."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.browser.conftest import click_stop, write_stop_notebook
from tests.browser.styles import expect_stylesheets_apply
from tests.browser.test_widget_pictures import CONTRAST

RUN_TIMEOUT = 240_000  # ms: the whole notebook, on a loaded 2-core machine


def _last_output(page: Any) -> Any:
    return page.locator(".jp-Notebook .jp-Cell").last.locator(".jp-OutputArea-output")


def _rerun_last_cell(page: Any) -> None:
    page.evaluate(
        """() => { const nb = window.jupyterapp.shell.currentWidget;
          nb.content.activeCellIndex = nb.content.widgets.length - 1;
          window.jupyterapp.commands.execute('notebook:run-cell'); }"""
    )


def test_widgets_notebook_renders_and_talks_back(lab: Any, browser: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        lab.open_notebook(page, "widgets.ipynb")
        lab.run_all(page)
        expect(_last_output(page)).to_contain_text("explorer frame:", timeout=RUN_TIMEOUT)

        # every widget rendered
        expect(page.locator(".ipytune-coverage")).to_have_count(2)
        expect(page.locator(".ipytune-gp")).to_have_count(3)
        expect(page.locator(".ipytune-dashboard")).to_have_count(2)  # the live GP search + tpe_search.dashboard()
        expect(page.locator(".ipytune-parcoords")).to_have_count(2)
        expect(page.locator(".ipytune-curves")).to_have_count(2)
        expect(page.locator(".ipytune-gp .ipytune-mean").first).to_be_attached()
        expect(page.locator(".ipytune-gp .ipytune-heatmap").first).to_be_attached()
        expect(page.locator(".ipytune-dashboard .ipytune-trial").first).to_be_attached()
        expect(page.locator(".ipytune-dashboard .ipytune-progress-text").first).to_contain_text("15 / 15")
        expect(page.locator(".ipytune-curves .ipytune-curve").first).to_be_attached()
        expect_stylesheets_apply(page)  # each widget's _css reached the page

        # Step and Play change the frame
        gp = page.locator(".ipytune-gp").first
        label = gp.locator(".ipytune-frame-label")
        expect(label).to_contain_text("step 1 / 8")
        gp.locator(".ipytune-step").click()
        expect(label).to_contain_text("step 2 / 8")
        gp.locator(".ipytune-play").click()
        expect(label).to_contain_text("step 4 / 8", timeout=10_000)
        gp.locator(".ipytune-play").click()  # pause
        frame = int(re.search(r"step (\d+)", label.inner_text()).group(1)) - 1  # type: ignore[union-attr]

        # coverage budget slider
        cov = page.locator(".ipytune-coverage").first
        cov.locator(".ipytune-budget-up").click()
        expect(cov.locator(".ipytune-budget-label")).to_have_text("10 trials each")

        # brushing the objective axis filters the table; clicking rows selects runs
        compare = page.locator(".ipytune-parcoords").last
        rows = compare.locator("tr.ipytune-run")
        expect(rows).to_have_count(10)
        hit = compare.locator(".ipytune-pc-axis[data-axis='objective'] .ipytune-pc-hit")
        for _ in range(3):  # Lab may still be scrolling the cell into place: drag again if it missed
            hit.scroll_into_view_if_needed()
            page.wait_for_timeout(300)
            box = hit.bounding_box()
            assert box is not None
            x = box["x"] + box["width"] / 2
            page.mouse.move(x, box["y"] + 6)
            page.mouse.down()
            page.mouse.move(x, box["y"] + box["height"] * 0.3, steps=5)
            page.mouse.up()
            if compare.locator(".ipytune-pc-brush").count() == 1:
                break
        expect(compare.locator(".ipytune-pc-brush")).to_have_count(1)
        visible = rows.count()
        assert 0 < visible < 10, f"the brush kept {visible} of 10 runs"
        rows.nth(0).click()
        chosen = rows.nth(0).locator("td").first.inner_text()  # the run's name; selection holds its id
        expect(rows.nth(0)).to_have_class(re.compile("ipytune-selected"))
        curves = page.locator(".ipytune-curves").last
        expect(curves.locator(".ipytune-curves-panel").first).to_have_attribute("data-title", "loss: 1 run")
        expect(curves.locator(".ipytune-curves-panel").first.locator("path.ipytune-curve")).to_have_count(1)

        for name, locator in [
            ("coverage-explorer", cov),
            ("gp-explorer", gp),
            ("gp-explorer-2d", page.locator(".ipytune-gp").nth(1)),
            ("search-dashboard", page.locator(".ipytune-dashboard").first),
            ("compare-runs", compare),
            ("compare-curves", curves),
        ]:
            locator.scroll_into_view_if_needed()
            locator.screenshot(path=str(artifacts / f"{name}.png"))

        # JupyterLab Dark: every widget's text reads against the dark background
        page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
        expect(page.locator("body[data-jp-theme-light='false']")).to_be_attached(timeout=30_000)
        page.wait_for_timeout(1000)
        for selector, floor in [
            (".ipytune-w .ipytune-title, .ipytune-w td", 4.5),
            (".ipytune-w svg text.ipytune-tick", 3.0),
        ]:
            faint = [m for m in page.evaluate(CONTRAST, selector) if m["ratio"] < floor]
            assert not faint, f"JupyterLab Dark: text below contrast {floor}: {faint[:5]}"
        for name, locator in [
            ("lab-dark-coverage", cov),
            ("lab-dark-dashboard", page.locator(".ipytune-dashboard").first),
        ]:
            locator.scroll_into_view_if_needed()
            locator.screenshot(path=str(artifacts / f"{name}.png"))
        page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")

        # what the front-end did is now in the kernel: the last cell prints the synced traits
        _rerun_last_cell(page)
        out = _last_output(page)
        expect(out).to_contain_text(f"explorer frame: {frame}", timeout=30_000)
        expect(out).to_contain_text(f"shown after brushing: {visible}")
        expect(out).to_contain_text(f"selected: ['{chosen}']")
        expect(out).to_contain_text("coverage budget: 10")
        page.screenshot(path=str(artifacts / "lab-widgets.png"))
        lab.shutdown_kernel(page)
    finally:
        page.close()
    assert errors == [], errors  # bqplot's translate(NaN,NaN) and Lumino-1 errors are gone with it


def test_stop_button_ends_the_search_after_the_current_trial(lab: Any, browser: Any, artifacts: Path) -> None:
    name = write_stop_notebook(Path(lab.root))
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    try:
        lab.open_notebook(page, name)
        lab.run_all(page)
        board = click_stop(page)
        board.screenshot(path=str(artifacts / "search-dashboard-stopped.png"))
        lab.shutdown_kernel(page)
    finally:
        page.close()
