"""A light protocol-level client of a served Panel page, for the soak and load benchmarks.

``Session`` opens a page as a browser does (GET the page, which makes the server build the session; open its
websocket with the page's token; pull the document) but builds no Bokeh models: the document is read as
JSON only to find the widgets and the data source to watch. A filter change is the one message a browser
sends when a widget changes (a ``PATCH-DOC`` with a ``ModelChanged`` event); its round trip ends when the
server's patch of the watched data source (the map's state values) arrives. Then an empty ``PATCH-DOC`` is
sent: its answer comes after whatever the server was still sending for that change, which is when the page
has settled. Bokeh's own ``Receiver`` reassembles the server's multi-frame messages.

Many sessions share one asyncio loop, so a hundred of them cost the client little CPU beside the server's.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from bokeh.protocol import Protocol
from bokeh.protocol.receiver import Receiver
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

TIMEOUT_S = 30.0
# What identifies the watched source: the dashboard's state map, the reference page's bars.
DASHBOARD_MAP = ("pcode", "hatch", "value")
REFERENCE_PLOT = ("pcode", "people")


class ServerError(RuntimeError):
    """The server answered a message with ERROR, or closed the connection."""


@dataclass
class Change:
    """One filter change as the client saw it (milliseconds; bytes received until settled)."""

    map_ms: float | None
    settled_ms: float
    received_bytes: int
    sent_bytes: int


def _objects(value) -> Iterator[dict]:
    """Every serialized Bokeh model in a document's JSON."""
    if isinstance(value, dict):
        if value.get("type") == "object" and "id" in value:
            yield value
        for item in value.values():
            yield from _objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from _objects(item)


def _columns(model: dict) -> set[str]:
    data = model.get("attributes", {}).get("data", {})
    return {str(entry[0]) for entry in data.get("entries", [])} if isinstance(data, dict) else set()


def option_values(options) -> list[str]:
    """A Select's option values, from its serialized ``options`` (a list, or groups as a map)."""
    if isinstance(options, dict) and options.get("type") == "map":
        return [v for _, group in options["entries"] for v in option_values(group)]
    values = []
    for option in options or []:
        values.append(str(option[0] if isinstance(option, list) else option))
    return values


@dataclass
class Session:
    """One page session over the websocket. ``await open()``, then ``await change(...)``, then ``close()``."""

    base: str  # http://127.0.0.1:PORT
    path: str  # /served
    watch: tuple[str, ...] = DASHBOARD_MAP
    headers: dict = field(default_factory=dict)  # a signed-in cookie, for one
    timeout: float = TIMEOUT_S
    html_s: float = 0.0
    open_s: float = 0.0
    models: list[dict] = field(default_factory=list, repr=False)
    _connection: WebSocketClientConnection | None = field(default=None, repr=False)
    _receiver: Receiver | None = field(default=None, repr=False)
    _received: int = 0
    _sent: int = 0

    async def open(self) -> Session:
        start = time.perf_counter()
        page = await AsyncHTTPClient().fetch(
            HTTPRequest(self.base + self.path, headers=self.headers, request_timeout=self.timeout * 4)
        )
        self.html_s = time.perf_counter() - start
        found = re.search(r'"token":\s*"([^"]+)"', page.body.decode())
        if found is None:
            raise ServerError(f"{self.path}: the page carries no session token")
        url = self.base.replace("http", "ws", 1) + self.path.rstrip("/") + "/ws"
        headers = {"Origin": self.base, **self.headers}
        self._connection = await asyncio.wait_for(
            websocket_connect(HTTPRequest(url, headers=headers), subprotocols=["bokeh", found.group(1)]),
            self.timeout,
        )
        self._receiver = Receiver(Protocol())
        await self._read()  # ACK
        reply_to = self._send("PULL-DOC-REQ", {})
        reply = await self._until(lambda m: m.header.get("reqid") == reply_to)
        self.models = list(_objects(reply.content))
        # What a browser says once it has drawn the document: Panel runs its on-load callbacks then, and
        # some panes (HoloViews') start sending their updates only after it.
        ready = {"type": "event", "name": "document_ready", "values": {"type": "map"}}
        event = {"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": ready}
        for content in ({"events": [event]}, {"events": []}):  # then settled: what on-load sent has arrived
            sent = self._send("PATCH-DOC", content)
            await self._until(lambda m, sent=sent: m.header.get("reqid") == sent)
        self.open_s = time.perf_counter() - start
        return self

    # --- finding models -------------------------------------------------------------------------------
    def widget(self, title: str) -> dict:
        """The widget whose title (label) is ``title``."""
        for model in self.models:
            if model.get("attributes", {}).get("title") == title:
                return model
        raise LookupError(f"no widget titled {title!r} in the page")

    def buttons(self, label: str) -> tuple[dict, list[str]]:
        """The button group with a button labelled ``label``, and its labels."""
        for model in self.models:
            labels = model.get("attributes", {}).get("labels")
            if isinstance(labels, list) and label in labels:
                return model, labels
        raise LookupError(f"no button group with {label!r} in the page")

    def _is_watched(self, model: dict) -> bool:
        return model.get("name") == "ColumnDataSource" and set(self.watch) <= _columns(model)

    @property
    def watched(self) -> str:
        """The newest watched source: a plot drawn again (the dashboard's map, its first arrows) sends a new
        one."""
        for model in reversed(self.models):
            if self._is_watched(model):
                return model["id"]
        raise LookupError(f"no data source with columns {', '.join(self.watch)} in the page")

    # --- a change ---------------------------------------------------------------------------------------
    async def change(self, model_id: str, attr: str, value) -> Change:
        """Set one widget property as the browser does; wait for the watched source, then for quiet."""
        watched = self.watched
        received, sent = self._received, self._sent
        start = time.perf_counter()
        event = {"kind": "ModelChanged", "model": {"id": model_id}, "attr": attr, "new": value}
        self._send("PATCH-DOC", {"events": [event]})

        def touches(message) -> bool:
            events = message.content.get("events", []) if message.header["msgtype"] == "PATCH-DOC" else []
            ids = [e["model"].get("id") for e in events if isinstance(e.get("model"), dict)]
            return watched in ids or any(self._is_watched(m) for m in _objects(events))  # or drawn anew

        await self._until(touches)
        map_ms = (time.perf_counter() - start) * 1000
        ping = self._send("PATCH-DOC", {"events": []})
        await self._until(lambda m: m.header.get("reqid") == ping)
        return Change(
            map_ms=map_ms,
            settled_ms=(time.perf_counter() - start) * 1000,
            received_bytes=self._received - received,
            sent_bytes=self._sent - sent,
        )

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    # --- the wire ----------------------------------------------------------------------------------------
    def _send(self, msgtype: str, content: dict) -> str:
        msgid = uuid.uuid4().hex
        for text in (json.dumps({"msgid": msgid, "msgtype": msgtype}), "{}", json.dumps(content)):
            self._sent += len(text.encode())
            self._connection.write_message(text)
        return msgid

    async def _read(self):
        while True:
            fragment = await self._connection.read_message()
            if fragment is None:
                raise ServerError(f"{self.path}: the server closed the connection")
            self._received += len(fragment.encode() if isinstance(fragment, str) else fragment)
            message = await self._receiver.consume(fragment)
            if message is not None:
                if message.header["msgtype"] == "ERROR":
                    raise ServerError(f"{self.path}: {message.content.get('text', 'error')}")
                return message

    async def _until(self, wanted):
        deadline = time.perf_counter() + self.timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"{self.path}: no answer within {self.timeout:.0f} s")
            message = await asyncio.wait_for(self._read(), left)
            if message.header["msgtype"] == "PATCH-DOC":  # models the page gains (a part drawn anew)
                self.models += _objects(message.content)
            if wanted(message):
                return message
