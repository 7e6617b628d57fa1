"""What a person sees: the widgets drawn in chromium in a light and two dark themes, and the
plotted data read back from the drawing (not from the widget state).

A few cells run in a real kernel (two real searches tracked by trackio, the coverage explorer,
a dashboard with an outlier, failed and pruned trials and no Stop), are exported to HTML and
opened at 1280x720 with every CDN request answered from npm. Screenshots go to test-artifacts/;
docs/widgets/ holds the ones a person looked at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.pictures import THEMES, export, open_page, run_cells

CELLS = [
    "%load_ext ipytune\nimport numpy as np\nimport ipytune.widgets as w\n"
    "from ipytune.widgets.dashboard import STOP_UNAVAILABLE, SearchDashboard",
    "w.coverage_explorer(budget=9)",
    # 12 of 30 trials: an outlier (-48), a failed and a pruned trial, in a kernel that cannot Stop
    "values = np.array([1.0, 0.5, np.nan, 2.0, 1.5, -48.0, 2.2, 2.1, 1.9, np.nan, 2.5, 2.4])\n"
    "states = np.array([0, 0, 2, 0, 0, 0, 0, 0, 0, 1, 0, 0], dtype=np.uint8)\n"
    "SearchDashboard(title='%%tune --method gp', total=30, done=12, elapsed=5.0, eta=7.0,\n"
    "    counts={'COMPLETE': 10, 'PRUNED': 1, 'FAIL': 1}, best_value=2.5, best_number=10,\n"
    "    best_params={'x': 1.2}, maximize=True, values=values.tobytes(), states=states.tobytes(),\n"
    "    status='running', can_stop=False, stop_note=STOP_UNAVAILABLE)",
    *(
        f"%%tune --method {m} --trials 10 --seed 0 --storage memory --no-refit --project pics --quiet\n"
        "x = tune.float(-5, 5)\ny = tune.float(-5, 5)\n-(x - 2) ** 2 - 0.5 * (y + 1) ** 2 + 1"
        for m in ("gp", "tpe")
    ),
    "w.compare_runs('pics')",
]
WIDGETS = {"coverage": ".ipytune-coverage", "dashboard": ".ipytune-dashboard", "compare": ".ipytune-compare"}


@pytest.fixture(scope="module")
def notebook(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return run_cells(CELLS, tmp_path_factory.mktemp("pictures"))


@pytest.fixture(scope="module")
def pages(notebook: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pages")
    return {theme: export(notebook, folder / f"{theme}.html", theme) for theme in THEMES}


def _ready(page: Any) -> None:
    from playwright.sync_api import expect

    for selector in WIDGETS.values():
        expect(page.locator(selector)).to_have_count(1, timeout=60_000)
    expect(page.locator(".ipytune-compare .ipytune-curve").first).to_be_attached(timeout=30_000)


# -- every theme: legible, nothing clipped, no console error ----------------------------------------
CONTRAST = """(selector) => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (node) => {
    for (let n = node; n; n = n.parentElement) {
      const c = rgb(getComputedStyle(n).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll(selector)].map((node) => {
    const s = getComputedStyle(node);
    const fg = rgb(node instanceof SVGElement ? s.fill : s.color).slice(0, 3);
    const [a, b] = [lum(fg), lum(background(node))].sort((p, q) => q - p);
    return { text: (node.textContent || '').slice(0, 30), ratio: (a + 0.05) / (b + 0.05) };
  });
}"""

# every text and point of an ipytune drawing lies inside its svg: no clipped tick, no cut point
OUTSIDE = """() => {
  const out = [];
  for (const svg of document.querySelectorAll('.ipytune-w svg.ipytune-plot')) {
    const box = svg.getBoundingClientRect();
    for (const n of svg.querySelectorAll('text, circle')) {
      const r = n.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)
        out.push(`${svg.getAttribute('class')}: ${n.tagName} ${(n.textContent || '').slice(0, 20)}`);
    }
  }
  return out;
}"""


@pytest.mark.parametrize("theme", THEMES)
def test_every_widget_is_legible_and_whole_in_each_theme(
    browser: Any, pages: dict[str, Path], theme: str, artifacts: Path
) -> None:
    page, cdn, errors = open_page(browser, pages[theme], theme)
    try:
        _ready(page)
        for name, selector in WIDGETS.items():
            widget = page.locator(selector)
            widget.scroll_into_view_if_needed()
            widget.screenshot(path=str(artifacts / f"{name}-{theme}.png"))
        # text: titles, labels, the table, the stop note; its colour against what is behind it
        for selector, floor in [
            (".ipytune-w .ipytune-title, .ipytune-w td, .ipytune-w .ipytune-warning, .ipytune-w .ipytune-legend", 4.5),
            (".ipytune-w svg text.ipytune-label, .ipytune-w svg text.ipytune-plot-title", 4.5),
            (".ipytune-w svg text.ipytune-tick", 3.0),
        ]:
            measured = page.evaluate(CONTRAST, selector)
            assert measured, selector
            faint = [m for m in measured if m["ratio"] < floor]
            assert not faint, f"{theme}: text below contrast {floor}: {faint[:5]}"
        assert page.evaluate(OUTSIDE) == [], theme
    finally:
        page.close()
    assert not cdn.missing, cdn.missing
    assert errors == [], errors


# -- the plotted data ----------------------------------------------------------------------------------
SPANS = """(panel) => {
  const g = document.querySelector(`.ipytune-cov-panel[data-name='${panel}']`);
  const unit = (axis, attr) => {
    const [a, b] = ['.ipytune-scale-0', '.ipytune-scale-1'].map((s) => +g.querySelector(`${axis} ${s}`).getAttribute(attr));
    return Math.abs(b - a);
  };
  const x = g.querySelector('.ipytune-marginal-x').getBBox();
  const y = g.querySelector('.ipytune-marginal-y').getBBox();
  return { x: x.height / unit('.ipytune-proj-x', 'y1'), y: y.width / unit('.ipytune-proj-y', 'x1') };
}"""


def test_coverage_marginals_share_one_value_scale_and_the_slider_stretches_them(
    browser: Any, pages: dict[str, Path]
) -> None:
    from playwright.sync_api import expect

    page, _, _ = open_page(browser, pages["light"])
    try:
        _ready(page)
        cov = page.locator(".ipytune-coverage")
        # importance 0.96: the important marginal spans 0.96 of the common scale, the other 0.04
        spans = page.evaluate(SPANS, "random")
        assert spans["x"] == pytest.approx(0.96, abs=0.02)
        assert spans["y"] == pytest.approx(0.04, abs=0.01)
        axis_names = cov.locator(".ipytune-cov-svg text.ipytune-label").evaluate_all(
            "(ns) => ns.map((n) => n.textContent)"
        )
        assert {"important: 3 values tried", "unimportant: 3 values", "important: 9 values tried"} <= set(axis_names)
        expect(cov.locator(".ipytune-cov-math")).to_contain_text("1 − (1 − 0.1)^9 = 61 %")
        # the importance slider to 0.5: both parameters matter as much
        cov.locator("input.ipytune-importance").evaluate(
            "(el) => { el.value = 0; el.dispatchEvent(new Event('input')); }"
        )
        expect(cov.locator(".ipytune-importance-label")).to_contain_text("by 0.5")
        spans = page.evaluate(SPANS, "random")
        assert spans["x"] == pytest.approx(0.5, abs=0.02)
        assert spans["y"] == pytest.approx(0.5, abs=0.02)
        # repeating both searches: random beats the grid's single best in most repeats
        cov.locator(".ipytune-repeat").click()
        better = float(cov.locator(".ipytune-repeats-svg").get_attribute("data-better") or "nan")
        assert 0.5 < better <= 1.0
    finally:
        page.close()


def test_dashboard_axis_legend_outliers_and_stop_note(browser: Any, pages: dict[str, Path]) -> None:
    from playwright.sync_api import expect

    page, _, _ = open_page(browser, pages["light"])
    try:
        _ready(page)
        board = page.locator(".ipytune-dashboard")
        glyphs = board.locator(".ipytune-legend-item").evaluate_all("(ns) => ns.map((n) => n.dataset.glyph)")
        assert glyphs == ["dot", "step", "ring", "ring"]
        expect(board.locator(".ipytune-legend")).to_contain_text("best so far (higher is better)")
        expect(board.locator(".ipytune-dash-svg")).to_contain_text("maximize ↑")
        # the trial axis runs to the trials planned (30), not to the 12 done
        assert board.locator(".ipytune-dash-svg").get_attribute("data-xmax") == "29"
        assert board.locator(".ipytune-axes text.ipytune-tick").evaluate_all("(ns) => ns.map((n) => n.textContent)")[
            :6
        ] == ["0", "5", "10", "15", "20", "25"]
        # -48 is a triangle on the edge; the other trials use at least half the plot's height
        expect(board.locator(".ipytune-outlier")).to_have_count(1)
        spread = board.locator("circle.ipytune-trial:not(.ipytune-failed):not(.ipytune-pruned)").evaluate_all(
            "(ns) => { const ys = ns.map((n) => +n.getAttribute('cy')); return Math.max(...ys) - Math.min(...ys); }"
        )
        assert spread > 0.5 * (230 - 54 - 14 - 12), spread
        expect(board.locator("circle.ipytune-failed")).to_have_count(1)
        expect(board.locator("circle.ipytune-pruned")).to_have_count(1)
        # no Stop in this kernel: said inline, with what to do
        note = board.locator(".ipytune-stop-note")
        expect(note).to_be_visible()
        expect(note).to_contain_text("interrupt the kernel")
        expect(note).to_contain_text("every finished trial is kept")
        expect(board.locator(".ipytune-stop")).to_be_hidden()
    finally:
        page.close()


def test_comparison_curves_per_trial_and_legends_outside(browser: Any, pages: dict[str, Path]) -> None:
    from playwright.sync_api import expect

    page, _, _ = open_page(browser, pages["light"])
    try:
        _ready(page)
        compare = page.locator(".ipytune-compare")
        panels = compare.locator(".ipytune-curves-panel")
        expect(panels).to_have_count(2)
        expect(panels.first).to_have_attribute("data-title", "objective per trial: 20 runs")
        expect(panels.first.locator("path.ipytune-curve")).to_have_count(2)  # one line per search, not 20 dots
        expect(panels.first.locator("circle.ipytune-curve-point")).to_have_count(20)
        drawing = compare.locator(".ipytune-curves-svg").bounding_box()
        assert drawing is not None
        for k in range(2):
            legend = compare.locator(f".ipytune-curves-legend[data-panel='{k}']")
            expect(legend.locator(".ipytune-legend-item")).to_have_count(2)
            box = legend.bounding_box()
            assert box is not None
            assert box["y"] >= drawing["y"] + drawing["height"] - 1, "the legend sits on the plot"
        expect(compare.locator("tr.ipytune-run")).to_have_count(20)
        # brushing the objective axis: the brush covers what the mouse dragged over, no more
        hit = compare.locator(".ipytune-pc-axis[data-axis='objective'] .ipytune-pc-hit")
        hit.scroll_into_view_if_needed()
        box = hit.bounding_box()
        assert box is not None
        x, top, bottom = box["x"] + box["width"] / 2, box["y"] + 10, box["y"] + box["height"] * 0.4
        page.mouse.move(x, top)
        page.mouse.down()
        page.mouse.move(x, bottom, steps=5)
        page.mouse.up()
        brush = compare.locator(".ipytune-pc-brush").bounding_box()
        assert brush is not None
        assert brush["y"] == pytest.approx(top, abs=3)
        assert brush["y"] + brush["height"] == pytest.approx(bottom, abs=3)
        kept = compare.locator("tr.ipytune-run").count()
        assert 0 < kept < 20, kept
    finally:
        page.close()
