"""The API documentation at /docs renders in a real browser with no internet.

FastAPI describes the API as OpenAPI 3.1; a Swagger UI too old for 3.1 serves its files and
then shows "Unable to render this definition", which a status-code check cannot notice.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from web_support import OriginGuard

pytestmark = pytest.mark.browser


def test_docs_render_the_relay_api_offline(relay, browser, screenshots: Path) -> None:
    context = browser.new_context()
    page = context.new_page()
    guard = OriginGuard(relay.url, page)
    page.goto(relay.url + "/docs")
    # Every endpoint is an "opblock"; the send endpoint must be among them.
    page.locator(".opblock").first.wait_for()
    assert page.get_by_text("Unable to render this definition").count() == 0
    assert page.locator(".opblock").count() > 20
    assert page.get_by_text("/v1/mailboxes/{mailbox_id}/messages").count() > 0
    page.screenshot(path=str(screenshots / "api-docs.png"))
    guard.assert_clean()
    context.close()
