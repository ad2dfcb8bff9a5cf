"""A reverse proxy for tests, doing to ``X-Forwarded-For`` what nginx does.

nginx with ``proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for`` appends the
address the connection came from to whatever header the client sent
(https://nginx.org/en/docs/http/ngx_http_proxy_module.html#var_proxy_add_x_forwarded_for),
and connects to the app from its own address. This one listens on 127.0.0.1, forwards each
request to the app over a new connection and answers with the app's response. Clients
pick their address by binding to another loopback address (127.0.0.2, 127.0.0.3, ...:
all of 127.0.0.0/8 is the loopback interface on Linux), so "two patients behind one
proxy" are two real TCP peers.
"""

from __future__ import annotations

import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"}


class ReverseProxy:
    def __init__(self, upstream: str) -> None:
        target = urlsplit(upstream)
        host, port = target.hostname or "127.0.0.1", target.port or 80

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                sent = self.headers.get("X-Forwarded-For")
                peer = self.client_address[0]
                headers.pop("X-Forwarded-For", None)
                headers["X-Forwarded-For"] = f"{sent}, {peer}" if sent else peer
                headers["X-Real-IP"] = peer
                upstream_conn = http.client.HTTPConnection(host, port, timeout=60)
                try:
                    upstream_conn.request(self.command, self.path, body=body, headers=headers)
                    response = upstream_conn.getresponse()
                    payload = response.read()
                    self.send_response(response.status)
                    for key, value in response.getheaders():
                        if key.lower() not in HOP_BY_HOP | {"content-length"}:
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(payload)
                finally:
                    upstream_conn.close()

            do_GET = do_POST = do_DELETE = do_PATCH = _forward  # noqa: N815 - http.server's names

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def request(
    base_url: str,
    method: str,
    path: str,
    *,
    source: str = "127.0.0.1",
    body: dict | None = None,
    form: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request to ``base_url`` from the local address ``source``."""
    target = urlsplit(base_url)
    conn = http.client.HTTPConnection(
        target.hostname, target.port, timeout=60, source_address=(source, 0)
    )
    all_headers = dict(headers or {})
    data: bytes | None = None
    if body is not None:
        data = json.dumps(body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    elif form is not None:
        data = form.encode()
        all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    try:
        conn.request(method, path, body=data, headers=all_headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()
