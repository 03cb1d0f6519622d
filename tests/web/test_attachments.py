"""Issue 17, attachments: images and PDFs previewed inside the app from memory (blob: URLs,
revoked when closed), with their size; nothing reaches the disk unless the person saves,
and the client is warned first that a saved file outlives quick exit; large files show
their progress up and down. The relay's CSP allows exactly what the preview needs."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from web_support import (
    PHONE,
    OriginGuard,
    create_invite,
    join_client,
    open_conversation,
    open_worker_app,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _png(width: int = 4, height: int = 3) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x20\x80\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


class Downloads:
    """Every download a page starts: the test fails if a preview writes anything."""

    def __init__(self, page: Any) -> None:
        self.seen: list[Any] = []
        page.on("download", lambda download: self.seen.append(download))


def _attach(page: Any, name: str, mime: str, data: bytes) -> None:
    page.locator("#compose-file").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}]
    )


def test_previews_from_memory_and_saving_on_request(relay, browser, screenshots: Path) -> None:
    context, worker, guard = open_worker_app(browser, relay)
    client = join_client(browser, guard, create_invite(worker, "Sam"))
    open_conversation(worker, "Sam")
    expect(worker.locator("#consent-state")).to_contain_text("Consent given")
    worker_downloads, client_downloads = Downloads(worker), Downloads(client)

    png = _png()
    _attach(client, "photo.png", "image/png", png)
    item = worker.locator(".message", has_text="photo.png")
    expect(item.locator(".file-size")).to_have_text(f"({len(png)} bytes)")
    item.get_by_role("button", name="Preview photo.png").click()
    image = item.get_by_role("img", name="Preview of photo.png")
    expect(image).to_be_visible()
    src = str(image.get_attribute("src"))
    assert src.startswith("blob:")
    size = image.evaluate("(img) => img.decode().then(() => [img.naturalWidth, img.naturalHeight])")
    assert size == [4, 3]

    _attach(client, "letter.pdf", "application/pdf", PDF)
    pdf_item = worker.locator(".message", has_text="letter.pdf")
    pdf_item.get_by_role("button", name="Preview letter.pdf").click()
    frame = pdf_item.locator("iframe[title='Preview of letter.pdf']")
    expect(frame).to_be_visible()
    assert str(frame.get_attribute("src")).startswith("blob:")
    worker.screenshot(path=str(screenshots / "64-worker-attachment-previews.png"), full_page=True)
    assert worker_downloads.seen == [], "a preview must not write to the disk"

    # Closing the preview lets the memory go: the blob: URL no longer resolves.
    # By keyboard: the message list scrolls to its end as the PDF's preview settles, so a
    # pointer aimed at this button can land on what has moved under it.
    item.get_by_role("button", name="Close the preview").press("Enter")
    expect(item.get_by_role("img")).to_have_count(0)
    gone = worker.evaluate(
        """(url) => new Promise((done) => {
          const probe = new Image();
          probe.onload = () => done('still there');
          probe.onerror = () => done('revoked');
          probe.src = url;
        })""",
        src,
    )
    assert gone == "revoked"

    # A file that is not an image or a PDF is only ever saved, and only on request.
    _attach(client, "notes.txt", "text/plain", b"call on Tuesday\n")
    text_item = worker.locator(".message", has_text="notes.txt")
    expect(text_item.get_by_role("button", name="Preview notes.txt")).to_have_count(0)
    with worker.expect_download() as saved:
        text_item.get_by_role("button", name="Save notes.txt to this device").click()
    assert Path(saved.value.path()).read_bytes() == b"call on Tuesday\n"

    # The client previews without a warning, and is warned before saving.
    _attach(worker, "leaflet.png", "image/png", png)
    leaflet = client.locator(".message", has_text="leaflet.png")
    leaflet.get_by_role("button", name="Preview leaflet.png").click()
    expect(leaflet.get_by_role("img", name="Preview of leaflet.png")).to_be_visible()
    assert client_downloads.seen == []
    leaflet.get_by_role("button", name="Save leaflet.png to this device").click()
    warning = leaflet.get_by_role("alert")
    expect(warning).to_contain_text("even after quick exit")
    assert client_downloads.seen == [], "the warning comes before anything is saved"
    client.screenshot(path=str(screenshots / "65-client-save-warning.png"), full_page=True)
    with client.expect_download() as kept:
        leaflet.get_by_role("button", name="Save it anyway").click()
    assert Path(kept.value.path()).read_bytes() == png

    guard.assert_clean()
    client.context.close()
    context.close()


# A bar that has started and not finished: what someone waiting on a slow line sees.
PART_WAY = """() => [...document.querySelectorAll('[data-transfer] progress')]
  .some((bar) => bar.value > 0 && bar.value < bar.max)"""


class SlowUplink:
    """A TCP proxy in front of the relay that forwards what the browser sends at a set rate
    (and the answers at full speed), with small socket buffers, so an upload really takes
    a while and its progress can be watched."""

    def __init__(self, relay_url: str, bytes_per_second: int) -> None:
        self.target = urlsplit(relay_url)
        self.rate = bytes_per_second
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.open: list[socket.socket] = []

    def __enter__(self) -> SlowUplink:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.listener.close()
        for sock in self.open:
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                browser_side, _ = self.listener.accept()
            except OSError:
                return
            relay_side = socket.create_connection((self.target.hostname, self.target.port))
            self.open += [browser_side, relay_side]
            threading.Thread(
                target=self._pump, args=(browser_side, relay_side, True), daemon=True
            ).start()
            threading.Thread(
                target=self._pump, args=(relay_side, browser_side, False), daemon=True
            ).start()

    def _pump(self, source: socket.socket, sink: socket.socket, slow: bool) -> None:
        piece = 16 * 1024
        try:
            while data := source.recv(piece):
                sink.sendall(data)
                if slow:
                    time.sleep(len(data) / self.rate)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def _slow_line(page: Any, bytes_per_second: int) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 20,
            "downloadThroughput": bytes_per_second,
            "uploadThroughput": bytes_per_second,
        },
    )


def test_large_files_show_progress_both_ways(relay, browser) -> None:
    context, worker, guard = open_worker_app(browser, relay)
    big = bytes(range(256)) * (8 * 4096)  # 8 MiB, more than the kernel's socket buffers

    # On loopback an upload is gone in an instant (and Chromium's network emulation does not
    # reliably slow a request body), so this client reaches the relay through a proxy that
    # passes what the browser sends at about 2 MB/s: the bar stays long enough to be read.
    with SlowUplink(relay.url, 2_000_000) as proxy:
        client_context = browser.new_context(viewport=PHONE)
        client = client_context.new_page()
        client_guard = OriginGuard(proxy.url, client)  # the page lives at the proxy's address
        client.goto(create_invite(worker, "Sam").replace(relay.url, proxy.url))
        client.get_by_role("button", name="I agree").click(timeout=60_000)
        open_conversation(worker, "Sam")
        expect(worker.locator("#consent-state")).to_contain_text("Consent given")
        _attach(client, "scan.bin", "application/octet-stream", big)
        sending = client.locator(".message", has_text="scan.bin")
        expect(sending.get_by_role("progressbar", name="Uploading scan.bin")).to_be_visible()
        # Chromium reports an upload's progress in large, irregular steps (what it has read
        # of the body, not what went out), so only the total is checked here; the download
        # below shows a bar part way.
        expect(sending.locator("[data-transfer]")).to_contain_text("of 8.4 MB")
        expect(sending).to_have_attribute("data-state", "delivered", timeout=60_000)
        expect(sending.get_by_role("progressbar")).to_have_count(0)
        client_guard.assert_clean()

    _slow_line(worker, 1_000_000)
    received = worker.locator(".message", has_text="scan.bin")
    expect(received.locator(".file-size")).to_have_text("(8.4 MB)")
    with worker.expect_download(timeout=60_000) as saved:
        received.get_by_role("button", name="Save scan.bin to this device").click()
        expect(received.get_by_role("progressbar", name="Downloading scan.bin")).to_be_visible()
        worker.wait_for_function(PART_WAY, polling=50)
    assert Path(saved.value.path()).read_bytes() == big
    expect(received.get_by_role("progressbar")).to_have_count(0)

    guard.assert_clean()
    client.context.close()
    context.close()
