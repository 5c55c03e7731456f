"""Serving the app with waitress (Windows and Linux), with two corrections for latency.

waitress 3.0 closes the connection after any response that has no ``Content-Length``, and
it never sends one with a 304 or 204 — responses that have no body by definition (RFC 9112
§6.3). Every ``If-None-Match`` answered 304 would then cost the client a new TCP connection,
which is most of what a sync is. :class:`KeepAliveTask` keeps such connections open unless
the client asked to close them (or speaks HTTP/1.0).

Python's full garbage collections walk every object the process holds — Flask, SQLAlchemy,
pydantic's schemas: measured here at 30–90 ms with the GIL held, every few seconds under
load, which is the whole p99 budget. :func:`make_server` moves everything that exists once
the app is built out of the collector's sight (``gc.freeze()``); what requests create is
collected as before.
"""

from __future__ import annotations

import gc
from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import WSGITask


class KeepAliveTask(WSGITask):
    _bodiless_keep_alive = False

    def build_response_header(self) -> bytes:
        self._bodiless_keep_alive = (
            not self.has_body and self.version == "1.1" and not self.close_on_finish
            and self.request.headers.get("CONNECTION", "").lower() != "close")
        try:
            return super().build_response_header()
        finally:
            self._bodiless_keep_alive = False

    def set_close_on_finish(self) -> None:
        if self._bodiless_keep_alive:
            return  # no body, so no length needed to find the end of this response
        super().set_close_on_finish()


class KeepAliveChannel(HTTPChannel):
    task_class = KeepAliveTask


def make_server(app: Any, host: str = "127.0.0.1", port: int = 8080, threads: int = 8,
                freeze_gc: bool = True, **adjustments: Any):
    """A waitress server for ``app`` (``.run()`` serves until interrupted)."""
    adjustments.setdefault("ident", "xlbridge")
    server = create_server(app, host=host, port=port, threads=threads, **adjustments)
    servers = [server] if isinstance(server, BaseWSGIServer) else [
        s for s in getattr(server, "map", {}).values() if isinstance(s, BaseWSGIServer)]
    for s in servers:
        s.channel_class = KeepAliveChannel
    if freeze_gc:
        gc.collect()
        gc.freeze()
    return server
