"""Where a notification may go, and the POST that takes it there.

A rest-hook endpoint is a URL a client names; without care it is a way to make careflow
send requests into its own network (server-side request forgery). So an endpoint is https
and resolves to public addresses only (``ipaddress``'s ``is_global``), unless its host is
one of ``CAREFLOW_SUBSCRIPTION_ALLOWED_HOSTS`` (then plain http and private addresses are
allowed too: a receiver on the same machine or network). The check is made when the
subscription is made and again before every notification, and the notification is sent to
the address that was checked (urllib3 connects to that address and still verifies the TLS
certificate against the host's name), so a name that resolves elsewhere by then gains
nothing. Redirects are not followed.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

import certifi
import urllib3
from django.conf import settings

from interop import codes

MAX_HEADERS: Final = 10
MAX_HEADER_LENGTH: Final = 1000


class EndpointRefused(ValueError):  # noqa: N818 - read as "the endpoint is refused"
    """Careflow will not send to this endpoint; the message says why, in words."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with its query
    address: str  # the checked IP address the request goes to


def _allowed_host(host: str) -> bool:
    return host.lower() in {h.lower() for h in settings.CAREFLOW_SUBSCRIPTION_ALLOWED_HOSTS}


def target(url: str) -> Target:
    """The endpoint's parts and the one address to send to; EndpointRefused if none may."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        msg = "channel.endpoint: not a URL"
        raise EndpointRefused(msg) from exc
    host = parts.hostname or ""
    allowed = _allowed_host(host)
    if parts.scheme != "https" and not (parts.scheme == "http" and allowed):
        msg = "channel.endpoint: an https URL (plain http only for the configured allowed hosts)"
        raise EndpointRefused(msg)
    if not host:
        msg = "channel.endpoint: a URL with a host"
        raise EndpointRefused(msg)
    if parts.username is not None or parts.password is not None:
        msg = "channel.endpoint: no credentials in the URL (send them in channel.header)"
        raise EndpointRefused(msg)
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        msg = f"channel.endpoint: {host} does not resolve"
        raise EndpointRefused(msg) from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]
    if not allowed and not all(a.is_global for a in addresses):
        msg = (
            f"channel.endpoint: {host} resolves to a private or reserved address; careflow "
            "sends only to public addresses (or to the configured allowed hosts)"
        )
        raise EndpointRefused(msg)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, path, str(addresses[0]))


def parse_headers(values: Any) -> list[str]:  # noqa: ANN401 - channel.header as sent
    """``channel.header``: "Name: value" strings, each one line; EndpointRefused otherwise."""
    if values is None:
        return []
    if not isinstance(values, list) or len(values) > MAX_HEADERS:
        msg = f"channel.header: a list of up to {MAX_HEADERS} 'Name: value' strings"
        raise EndpointRefused(msg)
    for value in values:
        name, colon, rest = value.partition(":") if isinstance(value, str) else ("", "", "")
        if (
            not colon
            or not name.strip()
            or not name.isascii()
            or any(c in value for c in "\r\n\x00")
            or len(value) > MAX_HEADER_LENGTH
            or not rest.strip()
        ):
            msg = "channel.header: each a one-line 'Name: value' string"
            raise EndpointRefused(msg)
    return list(values)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int | None  # None: no answer (timeout, refused connection, TLS failure)
    error: str  # in words, for the event row; empty on success

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300  # noqa: PLR2004

    @property
    def retry(self) -> bool:
        """Worth trying again: no answer, a server error, 408 Request Timeout, 429."""
        return self.status is None or self.status >= 500 or self.status in (408, 429)  # noqa: PLR2004


def post(url: str, body: dict[str, Any], *, headers: list[str], timeout: float) -> Answer:
    """POST a notification Bundle to the endpoint's checked address."""
    try:
        to = target(url)
    except EndpointRefused as exc:
        return Answer(None, str(exc))
    sent_headers = {
        name.strip(): value.strip() for name, _c, value in (h.partition(":") for h in headers)
    }
    host_header = to.host if to.port in (80, 443) else f"{to.host}:{to.port}"
    sent_headers |= {"Host": host_header, "Content-Type": codes.FHIR_JSON}
    pool_options: dict[str, Any] = {
        "timeout": urllib3.Timeout(total=timeout),
        "retries": False,
        "maxsize": 1,
    }
    if to.scheme == "https":
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            to.address,
            to.port,
            server_hostname=to.host,
            assert_hostname=to.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
            **pool_options,
        )
    else:
        pool = urllib3.HTTPConnectionPool(to.address, to.port, **pool_options)
    try:
        response = pool.urlopen(
            "POST",
            to.path,
            body=json.dumps(body).encode(),
            headers=sent_headers,
            redirect=False,
            assert_same_host=False,
        )
    except urllib3.exceptions.HTTPError as exc:
        return Answer(None, f"no answer from {to.host}: {type(exc).__name__}")
    finally:
        pool.close()
    if 200 <= response.status < 300:  # noqa: PLR2004
        return Answer(response.status, "")
    return Answer(response.status, f"{to.host} answered {response.status}")
