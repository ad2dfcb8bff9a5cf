"""The client's address, as every limit reads it: DRF throttles, django-axes, check-in.

Behind a reverse proxy the connection comes from the proxy, and the client's address is in
``X-Forwarded-For``, which anyone can also send. So the header is believed only from a
trusted proxy (``CAREFLOW_TRUSTED_PROXIES``, addresses or networks), and only as far as
trusted proxies wrote it: walking the header from the right (the hop nearest us), the first
address that is not a trusted proxy is the client. With no trusted proxies (the default),
the connection's address is the client and the header is ignored. This is nginx's
``real_ip_recursive on`` rule (https://nginx.org/en/docs/http/ngx_http_realip_module.html).

Not django-ipware: its proxy count and proxy list describe the header's content, not the
connection, so a client reaching the app directly could still choose its address.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def client_ip(request: HttpRequest) -> str:
    """The address of the client that sent ``request`` (never empty)."""
    remote = request.META.get("REMOTE_ADDR") or "0.0.0.0"  # noqa: S104 - a key, not a bind
    networks = _networks(tuple(settings.CAREFLOW_TRUSTED_PROXIES))
    if not _trusted(remote, networks):
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _valid(hop):
            # A malformed hop was written by the client, not by a trusted proxy: stop.
            break
        if not _trusted(hop, networks):
            return hop
        remote = hop
    return remote


def axes_client_ip(request: HttpRequest) -> str:
    """django-axes' AXES_CLIENT_IP_CALLABLE."""
    return client_ip(request)


def ratelimit_ip_key(_group: str, request: HttpRequest) -> str:
    """A django-ratelimit key function: the client's address."""
    return client_ip(request)
