"""The widgets' stylesheets (js/*.css, shipped through anywidget's ``_css``) really apply.

Each row is a computed style that only a stylesheet gives: the element has no inline
style for it and the browser's default differs. A widget whose stylesheet fails to load
(a missing ``_css``, a front-end that drops it) fails here, while its view still renders.
"""

from __future__ import annotations

from typing import Any

STYLED = [
    # (element, CSS property, value, the stylesheet that sets it)
    (".ipytune-gp .ipytune-title", "font-weight", "600", "styles.css (shared)"),
    (".ipytune-gp .ipytune-heat-row", "display", "flex", "gp_explorer.css"),
    (".ipytune-coverage .ipytune-cov-math", "margin-top", "6px", "coverage.css"),
    (".ipytune-dashboard .ipytune-progress", "width", "200px", "dashboard.css"),
    (".ipytune-parcoords .ipytune-pc-hit", "cursor", "ns-resize", "parcoords.css"),
    (".ipytune-curves .ipytune-curves-legends", "display", "grid", "curves.css"),
]


def expect_stylesheets_apply(page: Any) -> None:
    from playwright.sync_api import expect

    for selector, prop, value, sheet in STYLED:
        element = page.locator(selector).first
        expect(element, f"{sheet} does not style {selector} ({prop})").to_have_css(prop, value)
