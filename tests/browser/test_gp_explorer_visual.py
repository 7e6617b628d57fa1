"""The GP explorer as a lecturer projects it, read back from the drawing in chromium.

Cells run in a real kernel (the default explorer at slide size, a 2-D explorer with real
parameter names, the replay of a real ``--method gp`` study), are exported to HTML and
opened at 1280x720 with no kernel, in light and dark themes. The assertions read the SVG
that was drawn: the mean path against the observed dots on every frame, the ring on the
point just added against the last frame's star, the acquisition switch, the race.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from tests.browser.pictures import SLIDE, THEMES, export, open_page, run_cells

CELLS = [
    "%load_ext ipytune\nimport ipytune.widgets as w",
    "w.gp_explorer(present=True)",  # the lecture's defaults: seed 42, UCB, raced against random search
    "w.gp_explorer(f=lambda lr, depth: -(lr - 2) ** 2 - 0.5 * (depth + 1) ** 2 + 1,\n"
    "              bounds={'lr': (-5, 5), 'depth': (-5, 5)}, n_iter=3, acquisition='ei', seed=1)",
    "%%tune --method gp --trials 8 --seed 0 --storage memory --no-refit --no-track --quiet\n"
    "x = tune.float(-5, 5)\ny = tune.float(-5, 5)\n-(x - 2) ** 2 - 0.5 * (y + 1) ** 2 + 1",
    "tune.last.gp_explorer(params='x')",
    # another widget's stylesheet after the explorers': it repeats styles.css, whose presentation
    # rule must not win over the explorer's own
    "w.coverage_explorer(budget=4, present=True)",
]

# Every observed dot of the frame against the drawn mean path at the dot's x (user units); the
# path is straight between its vertices, so that is what the eye sees there.
MISSES = """(widget) => {
  const svg = widget.querySelector('svg.ipytune-gp-svg');
  const d = svg.querySelector('.ipytune-mean').getAttribute('d');
  const pts = [...d.matchAll(/[ML]([-\\d.]+),([-\\d.]+)/g)].map((m) => [+m[1], +m[2]]);
  const at = (x) => {
    for (let k = 1; k < pts.length; k++)
      if (pts[k][0] >= x) { const [a, b] = [pts[k - 1], pts[k]]; return a[1] + (b[1] - a[1]) * (x - a[0]) / (b[0] - a[0]); }
    return pts[pts.length - 1][1];
  };
  return [...svg.querySelectorAll('.ipytune-gp-top circle.ipytune-obs')]
    .filter((c) => +c.dataset.off === 0)
    .map((c) => Math.abs(at(+c.getAttribute('cx')) - +c.getAttribute('cy')));
}"""

MARKS = """(widget) => {
  const svg = widget.querySelector('svg.ipytune-gp-svg');
  const next = svg.querySelector('line.ipytune-next');
  const ring = svg.querySelector('circle.ipytune-new');
  return { next: next ? +next.getAttribute('x1') : null, ring: ring ? +ring.getAttribute('cx') : null,
           label: widget.querySelector('.ipytune-frame-label').textContent };
}"""

PLOT_HEIGHT = 250 - 12 - 46  # the top panel's drawing height (user units)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    notebook = run_cells(CELLS, tmp_path_factory.mktemp("gp"))
    folder = tmp_path_factory.mktemp("gp-pages")
    return {theme: export(notebook, folder / f"{theme}.html", theme) for theme in THEMES}


def _ready(page: Any) -> Any:
    from playwright.sync_api import expect

    expect(page.locator(".ipytune-gp")).to_have_count(3, timeout=60_000)
    return page.locator(".ipytune-gp")


def _walk(page: Any, widget: Any, steps: int) -> list[dict[str, Any]]:
    """Every frame of ``widget``, stepped with the keyboard (space), with its misses and marks."""
    from playwright.sync_api import expect

    widget.locator(".ipytune-title").click()  # focus the widget, as a lecturer clicks it once
    seen = []
    for k in range(steps):
        expect(widget.locator(".ipytune-frame-label")).to_contain_text(f"step {k + 1} /")
        handle = widget.element_handle()
        seen.append({"misses": page.evaluate(MISSES, handle), **page.evaluate(MARKS, handle)})
        page.keyboard.press("Space")
    return seen


def test_every_frame_draws_a_mean_through_its_points_and_rings_the_new_one(
    browser: Any, pages: dict[str, Path]
) -> None:
    page, cdn, errors = open_page(browser, pages["light"])
    try:
        gps = _ready(page)
        for widget, steps in [(gps.nth(0), 8), (gps.nth(2), 7)]:  # the default explorer, the replay
            frames = _walk(page, widget, steps)
            for k, frame in enumerate(frames):
                assert frame["misses"], f"frame {k + 1}: no observed dot on the drawing"
                # within 1 % of the plot's height: on the dot, as far as an eye can tell
                assert max(frame["misses"]) <= 0.01 * PLOT_HEIGHT, (k + 1, frame["misses"])
            for before, after in itertools.pairwise(frames):
                # the ring of frame k+1 sits where frame k's dashed line (and star) pointed
                assert after["ring"] == pytest.approx(before["next"], abs=0.6), (before, after)
            assert frames[0]["ring"] is None  # the random start: nothing "just added"
        # at the last frame, space is left to the page (a clicker moves to the next slide)
        last = gps.nth(0)
        prevented = page.evaluate(
            "(w) => { const e = new KeyboardEvent('keydown', {key: ' ', bubbles: true, cancelable: true});"
            " w.dispatchEvent(e); return e.defaultPrevented; }",
            last.element_handle(),
        )
        assert prevented is False
        last.locator(".ipytune-title").click()
        page.keyboard.press("ArrowLeft")
        assert "step 7 /" in last.locator(".ipytune-frame-label").inner_text()
        # the replay's slice says why points off it do not lie on it
        assert "faded points lie off this slice" in gps.nth(2).locator(".ipytune-slice-note").inner_text()
    finally:
        page.close()
    assert not cdn.missing, cdn.missing
    assert errors == [], errors


def test_acquisition_switch_samples_and_race(browser: Any, pages: dict[str, Path]) -> None:
    from playwright.sync_api import expect

    page, _, _ = open_page(browser, pages["light"])
    try:
        gp = _ready(page).nth(0)
        formula = gp.locator("text.ipytune-formula")
        expect(formula).to_contain_text("UCB(x) = μ(x) + κ·σ(x)")
        expect(formula).to_contain_text("κ = 2.576")
        # κ from exploit (0) to explore (10): where UCB would look moves
        slider = gp.locator("input.ipytune-acq-param")

        def look_at(stop: int) -> float:
            slider.evaluate(f"(el) => {{ el.value = {stop}; el.dispatchEvent(new Event('input')); }}")
            box = gp.locator("path.ipytune-acq-alt").get_attribute("d") or ""
            return float(box[1:].split(",")[0])

        exploit, explore = look_at(0), look_at(5)
        assert abs(exploit - explore) > 20, (exploit, explore)
        expect(gp.locator(".ipytune-acq-param-value")).to_contain_text("(explore)")
        gp.locator("button.ipytune-kind[data-kind='ei']").click()
        expect(formula).to_contain_text("EI(x) = E[max(f(x) − f⁺ − ξ, 0)]")
        gp.locator("button.ipytune-kind[data-kind='pi']").click()
        expect(formula).to_contain_text("PI(x) = P(f(x) > f⁺ + ξ)")
        gp.locator("input.ipytune-samples-toggle").check()
        expect(gp.locator("path.ipytune-sample")).to_have_count(3)
        glyphs = gp.locator(".ipytune-legend-item").evaluate_all("(ns) => ns.map((n) => n.dataset.glyph)")
        assert {"dot", "line", "band", "star", "dash"} <= set(glyphs), glyphs
        # the race: GP against random search, side by side, best so far growing with the steps
        gp.locator("button.ipytune-view[data-view='race']").click()
        expect(gp.locator("g.ipytune-race-panel")).to_have_count(2)
        lines = gp.locator("path.ipytune-best-line")
        expect(lines).to_have_count(2)
        before = len(lines.first.get_attribute("d") or "")
        gp.locator(".ipytune-step").click()
        assert len(lines.first.get_attribute("d") or "") > before
        expect(gp.locator(".ipytune-gp-note")).to_contain_text("random search best")
        # 2-D: real names on the axes, a colour bar per heatmap, no <lambda>
        two = _ready(page).nth(1)
        expect(two.locator(".ipytune-title")).not_to_contain_text("<lambda>")
        expect(two.locator(".ipytune-colourbar")).to_have_count(3)
        labels = two.locator("text.ipytune-label").evaluate_all("(ns) => ns.map((n) => n.textContent)")
        assert "lr" in labels and "depth" in labels, labels  # noqa: PT018
    finally:
        page.close()


@pytest.mark.parametrize("theme", THEMES)
def test_the_explorer_fits_a_slide_and_reads_in_each_theme(
    browser: Any, pages: dict[str, Path], theme: str, artifacts: Path
) -> None:
    from tests.browser.test_widget_pictures import CONTRAST

    page, _, errors = open_page(browser, pages[theme], theme)
    try:
        gp = _ready(page).nth(0)
        gp.scroll_into_view_if_needed()
        gp.screenshot(path=str(artifacts / f"gp-explorer-step1-{theme}.png"))  # the opening frame
        gp.locator(".ipytune-step").click()
        box = gp.bounding_box()
        assert box is not None
        assert box["width"] <= SLIDE["width"], box
        assert box["height"] <= SLIDE["height"], box
        # the drawing keeps to its 360 px, leaving the rest of a slide to its heading and controls
        drawing = gp.locator("svg.ipytune-gp-svg").bounding_box()
        assert drawing is not None
        assert drawing["height"] <= 361, drawing
        for selector, floor in [("text.ipytune-tick", 15), ("text.ipytune-label", 16)]:
            sizes = gp.locator(f"svg.ipytune-gp-svg {selector}").evaluate_all(
                "(ns) => ns.map((n) => parseFloat(getComputedStyle(n).fontSize)"
                " * n.ownerSVGElement.getBoundingClientRect().width / n.ownerSVGElement.viewBox.baseVal.width)"
            )
            assert min(sizes) >= floor, f"{selector}: {min(sizes):.1f} px at slide size"
        for selector, floor in [
            (".ipytune-gp .ipytune-title, .ipytune-gp .ipytune-legend, .ipytune-gp .ipytune-note", 4.5),
            (".ipytune-gp svg text.ipytune-label", 4.5),
            (".ipytune-gp svg text.ipytune-tick", 3.0),
        ]:
            faint = [m for m in page.evaluate(CONTRAST, selector) if m["ratio"] < floor]
            assert not faint, f"{theme}: text below contrast {floor}: {faint[:5]}"
        gp.screenshot(path=str(artifacts / f"gp-explorer-{theme}.png"))
        gp.locator("button.ipytune-view[data-view='race']").click()
        gp.screenshot(path=str(artifacts / f"gp-explorer-race-{theme}.png"))
        two = _ready(page).nth(1)
        two.scroll_into_view_if_needed()
        two.screenshot(path=str(artifacts / f"gp-explorer-2d-{theme}.png"))
        replay = _ready(page).nth(2)
        replay.scroll_into_view_if_needed()
        replay.screenshot(path=str(artifacts / f"gp-explorer-replay-{theme}.png"))
    finally:
        page.close()
    assert errors == [], errors


def test_a_clicker_steps_the_explorer_in_jupyterlab_not_the_notebook(lab: Any, browser: Any) -> None:
    """Space and the arrows are JupyterLab's command-mode keys too (scroll, move between cells):
    on a focused explorer they step it, and the notebook stays where it was."""
    import json

    import nbformat
    from playwright.sync_api import expect

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import ipytune.widgets as w\nw.gp_explorer(n_iter=3, race=None)")]
    notebook.cells.append(nbformat.v4.new_markdown_cell("after"))
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (Path(lab.root) / "gp-keys.ipynb").write_text(json.dumps(notebook))
    page = browser.new_page(viewport=SLIDE)
    try:
        lab.open_notebook(page, "gp-keys.ipynb")
        lab.run_all(page)
        gp = page.locator(".ipytune-gp")
        label = gp.locator(".ipytune-frame-label")
        expect(label).to_contain_text("step 1 / 4", timeout=120_000)
        active = "() => window.jupyterapp.shell.currentWidget.content.activeCellIndex"
        gp.locator(".ipytune-title").click()
        before = page.evaluate(active)
        for key, step in [("Space", 2), ("ArrowRight", 3), ("ArrowDown", 4), ("ArrowLeft", 3), ("ArrowUp", 2)]:
            page.keyboard.press(key)
            expect(label).to_contain_text(f"step {step} / 4")
        assert page.evaluate(active) == before, "the notebook moved to another cell"
        lab.shutdown_kernel(page)
    finally:
        page.close()
