"""Pages of one served dashboard stay apart: what one viewer does reaches no other viewer's page.

Over the wire, with the light protocol client of the benchmarks (``flowmon.bench_client``): a real
``panel serve`` on 127.0.0.1, pages opened as a browser opens them.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from flowmon import bench_client

APP = Path(__file__).resolve().parents[1] / "dashboards" / "flowmon_app.py"
pytestmark = pytest.mark.slow


async def _messages_while_another_page_changes(url: str) -> tuple[int, int]:
    """Bytes the changing page received for its change, and bytes the watching page received meanwhile."""
    base, path = url.rsplit("/", 1)
    changing = await bench_client.Session(base, "/" + path).open()
    watching = await bench_client.Session(base, "/" + path).open()
    try:
        period = changing.widget("Period")
        current = period["attributes"]["value"]
        other = next(v for v in bench_client.option_values(period["attributes"]["options"]) if v != current)
        before = watching._received
        change = await changing.change(period["id"], "value", other)
        # The watcher's own round trip: whatever the server had queued for it arrives before this answer.
        ping = watching._send("PATCH-DOC", {"events": []})
        answer = await watching._until(lambda m: m.header.get("reqid") == ping)
        ping_bytes = sum(len(part.encode()) for part in (answer.header_json, answer.metadata_json))
        ping_bytes += len(answer.content_json.encode())
        return change.received_bytes, watching._received - before - ping_bytes
    finally:
        changing.close()
        watching.close()


def test_a_change_in_one_page_sends_nothing_to_another(serve, demo_dir):
    # Panel's template shows one busy spinner per process: every page's spinner turned on and off at each
    # change of any page, a message to every open page (a viewer saw when others worked) and a cost that
    # grew with the number of pages. The dashboard has none; its pages share nothing live.
    served = serve(APP, demo_dir)
    # A loop of its own in a thread of its own: the browser tests' Playwright keeps one running in this one.
    with ThreadPoolExecutor(1) as thread:
        changed, elsewhere = thread.submit(
            asyncio.run, _messages_while_another_page_changes(served.url)
        ).result()
    assert changed > 1000  # the change itself reached its page: map, cards, tables
    assert elsewhere == 0
