"""Checking the endpoint URL a device asks the relay to push to.

The relay makes a request to whatever URL a worker's device stores, so the URL is held to
what a push service's endpoint looks like: https, a host name (no address literal, no user
name or password, no fragment) under one of ``push_service_hosts``, at most
``MAX_ENDPOINT`` characters of printable ASCII. Tests may allow loopback endpoints, over
http too, with ``push_allow_loopback``; production refuses that setting.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit

from confide_server.errors import InvalidInput

# Push services' endpoints are a few hundred characters; browsers cap nothing, so this does.
MAX_ENDPOINT = 1024


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _allowed_host(host: str, hosts: Sequence[str]) -> bool:
    return any(h == "*" or host == h or host.endswith("." + h) for h in hosts)


def check_endpoint(url: str, hosts: Sequence[str], allow_loopback: bool = False) -> str:
    """``url`` if the relay may push to it; InvalidInput saying why not otherwise."""
    if not url or len(url) > MAX_ENDPOINT:
        raise InvalidInput(f"endpoint must be 1 to {MAX_ENDPOINT} characters")
    if not all("!" <= c <= "~" for c in url):
        raise InvalidInput("endpoint must be printable ASCII without spaces")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise InvalidInput("endpoint is not a valid URL") from None
    host = (parts.hostname or "").lower()
    if not host or parts.username is not None or parts.password is not None or parts.fragment:
        raise InvalidInput("endpoint must be a URL with a host, no credentials and no fragment")
    if allow_loopback and _is_loopback(host) and parts.scheme in ("http", "https"):
        return url
    if parts.scheme != "https":
        raise InvalidInput("endpoint must be an https URL")
    if _is_address(host) or _is_loopback(host):
        raise InvalidInput("endpoint must name a push service's host, not an address")
    if not _allowed_host(host, hosts):
        raise InvalidInput("endpoint is not on a push service this relay allows")
    return url
