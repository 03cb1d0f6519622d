"""Accessibility checks any browser test can run on the view it has reached.

    from accessibility import assert_accessible
    assert_accessible(page, "invite")

checks, on what the page shows now:
- axe-core (clients/web/node_modules, never a CDN) with the WCAG 2.0/2.1 A and AA and 2.2 AA
  rules, the target-size rule among them: any violation fails, listed by rule and element;
- one visible level-one heading in the view (the page's title for a screen reader user);
- every visible interactive element at least 24 by 24 CSS pixels (WCAG 2.2, 2.5.8), except
  an inline target inside a sentence, which the criterion exempts.

`assert_view_focus(page, heading)` checks that focus went to the new view's level-one heading
after a change of view; `assert_all_reachable(page, view)` that every visible, enabled control
takes focus by Tab; `tab_to(page, name)` presses Tab until that control has focus, and
`tab_through(page)` presses Tab round the page and returns what took focus. docs/web.md
(Accessibility) says how to use them for a new view.
"""

from __future__ import annotations

import weakref
from typing import Any

from playwright.sync_api import expect
from web_support import WEB

AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
# Answered by the test (see _inject_axe); the relay has no such path.
AXE_URL = "/__test__/axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
MIN_TARGET = 24

_RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: { type: "tag", values: tags },
    rules: { "target-size": { enabled: true } },
    resultTypes: ["violations"],
  });
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary.replace(/\\s+/g, " ")}`),
  }));
}"""

# Drawn, and where a person can get at it now: not hidden, not in a closed dialog, not
# inside a closed <details> (whose own summary is).
_USABLE = """(el) => {
  if (!el.getClientRects().length || getComputedStyle(el).visibility === "hidden") return false;
  if (el.closest("[hidden], [inert], dialog:not([open])")) return false;
  const closed = el.closest("details:not([open])");
  return !closed || (el.tagName === "SUMMARY" && el.parentElement === closed);
}"""

_TARGETS = (
    "a[href], button, input:not([type=hidden]), select, textarea, summary, "
    "[tabindex]:not([tabindex='-1']), [role=button], [role=link], [role=checkbox], [role=tab]"
)

# Everything a pointer or a keyboard can act on, as it is drawn now, under min x min px.
_SMALL = f"""([selector, min]) => {{
  const usable = {_USABLE};
  const small = [];
  for (const el of document.querySelectorAll(selector)) {{
    if (!usable(el)) continue;
    const box = el.getBoundingClientRect();
    // 2.5.8's inline exception: a target inside a sentence, sized by the line it sits in.
    const text = (node) => node.textContent.trim();
    const inline = getComputedStyle(el).display === "inline";
    if (inline && el.parentElement && text(el.parentElement) !== text(el)) continue;
    if (box.width < min || box.height < min) {{
      const name = el.id ? `#${{el.id}}` : el.outerHTML.slice(0, 120);
      const size = (n) => Math.round(n * 10) / 10;
      small.push(`${{name}}: ${{size(box.width)}}x${{size(box.height)}}`);
    }}
  }}
  return small;
}}"""

_VISIBLE_H1 = """() => [...document.querySelectorAll("h1")]
  .filter((el) => el.getClientRects().length && !el.closest("[hidden]"))
  .map((el) => el.textContent.trim())"""

# How the keyboard tests name an element: its id, its tag, and its accessible name as far as
# the tests need it (aria-label, its label, its text, its value).
_DESCRIBE = """(el) => {
  const label = el.getAttribute("aria-label") || (el.labels && el.labels[0]?.textContent)
    || el.textContent || el.value || "";
  const name = label.trim().replace(/\\s+/g, " ").slice(0, 80);
  return { tag: el.tagName.toLowerCase(), id: el.id, name };
}"""

_FOCUSED = f"""() => {{
  const el = document.activeElement;
  return !el || el === document.body ? null : ({_DESCRIBE})(el);
}}"""

# Controls a person can use now: usable as above, and enabled.
_CONTROLS = f"""() => {{
  const usable = {_USABLE};
  const controls = "a[href], button, input:not([type=hidden]), select, textarea, summary";
  return [...document.querySelectorAll(controls)]
    .filter((el) => !el.disabled && usable(el))
    .map({_DESCRIBE});
}}"""


_routed: weakref.WeakSet[Any] = weakref.WeakSet()


def _inject_axe(page: Any) -> None:
    """Adds axe.min.js from node_modules to the page as a script of the page's own origin.

    The pages' CSP (script-src 'self') refuses an inline script, which is what
    add_script_tag(path=...) would add; so the test answers a same-origin URL itself with
    the file, the CSP stays as served, and nothing is fetched from anywhere else."""
    if page not in _routed:
        page.route(
            "**" + AXE_URL,
            lambda route: route.fulfill(path=str(AXE), content_type="text/javascript"),
        )
        _routed.add(page)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(url=AXE_URL)


def axe_violations(page: Any) -> list[dict[str, Any]]:
    _inject_axe(page)
    violations: list[dict[str, Any]] = page.evaluate(_RUN_AXE, WCAG_TAGS)
    return violations


def small_targets(page: Any) -> list[str]:
    found: list[str] = page.evaluate(_SMALL, [_TARGETS, MIN_TARGET])
    return found


def visible_h1(page: Any) -> list[str]:
    found: list[str] = page.evaluate(_VISIBLE_H1)
    return found


def _report(view: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"axe found {len(violations)} violation(s) on the {view} view:"]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
        lines += [f"    {node}" for node in v["nodes"][:5]]
    return "\n".join(lines)


def assert_accessible(page: Any, view: str) -> None:
    """axe (WCAG 2.1 A/AA, 2.2 AA), one level-one heading, and 24x24 targets on this view."""
    violations = axe_violations(page)
    assert not violations, _report(view, violations)
    headings = visible_h1(page)
    assert len(headings) == 1, f"the {view} view has {len(headings)} level-one headings: {headings}"
    small = small_targets(page)
    assert not small, f"targets under {MIN_TARGET}x{MIN_TARGET} px on the {view} view: {small}"


def focused(page: Any) -> dict[str, str] | None:
    """The focused element as (tag, id, name), or None when focus is on the body."""
    found: dict[str, str] | None = page.evaluate(_FOCUSED)
    return found


def assert_view_focus(page: Any, heading: str) -> None:
    """After a change of view, focus is on the new view's level-one heading (waiting, within
    expect's timeout, for a view that is still being drawn)."""
    try:
        expect(page.get_by_role("heading", level=1, name=heading, exact=True)).to_be_focused()
    except AssertionError:
        raise AssertionError(
            f"focus is on {focused(page)}, not on the level-one heading {heading!r}"
        ) from None


def tab_through(page: Any, limit: int = 80) -> list[dict[str, str]]:
    """Presses Tab until focus comes round to where the first press put it (past the end of
    the page, Tab leaves the document once and then starts again from the top); returns each
    element that took focus on the way, in order."""
    seen: list[dict[str, str]] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if now is None:
            continue
        if seen and now == seen[0]:
            return seen
        seen.append(now)
    raise AssertionError(f"focus never came round in {limit} presses of Tab: {seen}")


def tab_to(page: Any, name: str, limit: int = 80) -> None:
    """Presses Tab until the element whose name starts with `name` (or whose id is `name`)
    has focus; fails when it never does."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if now is not None and (now["name"].startswith(name) or now["id"] == name):
            return
    raise AssertionError(f"{name!r} cannot be reached with Tab")


def assert_all_reachable(page: Any, view: str) -> None:
    """Every visible, enabled control on the page takes focus somewhere in the Tab order."""
    controls: list[dict[str, str]] = page.evaluate(_CONTROLS)
    reached = tab_through(page, limit=2 * len(controls) + 10)
    missing = [c for c in controls if c not in reached]
    assert controls, f"no controls found on the {view} view"
    assert not missing, f"not reachable with Tab on the {view} view: {missing}"
