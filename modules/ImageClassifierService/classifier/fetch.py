"""Downloading over http(s) with timeouts, a deadline and a size cap: ``/url`` images and model updates.

A URL a client names (``/url``) or the module twin names (``modelUrl``) passes an :class:`AddressGuard`: the host is resolved once, every
address it resolves to must be public (not loopback, link-local, private, multicast, unspecified or
reserved, IPv4 inside IPv6 included) unless the host is listed as allowed, and the connection goes to
the checked address (pinned: a second DNS answer cannot swap it; TLS still verifies the host name).
Redirects are followed up to ``MAX_REDIRECTS`` hops, each hop resolved and checked again.
"""

from __future__ import annotations

import base64
import ipaddress
import math
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from http.client import HTTPConnection, HTTPException, HTTPResponse, HTTPSConnection
from urllib.parse import SplitResult, unquote, urljoin, urlsplit, urlunsplit

import certifi

CHUNK_BYTES = 64 * 1024
MAX_REDIRECTS = 5
NAT64 = ipaddress.ip_network("64:ff9b::/96")
USER_AGENT = "ImageClassifierService"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
TLS = ssl.create_default_context(cafile=certifi.where())  # the CA bundle requests used


class FetchError(RuntimeError):
    """The download failed. ``status``: the HTTP status when the server answered other than 200
    (None otherwise); ``too_large``: the body passed the cap; ``network``: no answer at all (or too
    slow)."""

    def __init__(self, message: str, status: int | None = None, too_large: bool = False, network: bool = False) -> None:
        super().__init__(message)
        self.status, self.too_large, self.network = status, too_large, network

    @property
    def transient(self) -> bool:
        """Worth retrying later: the network, a server error, or rate limiting."""
        return self.network or (self.status is not None and (self.status >= 500 or self.status == 429))


def is_public(address: str) -> bool:
    """True for a globally routable unicast address; IPv4 embedded in IPv6 (mapped, compatible, 6to4,
    Teredo, NAT64) is judged by its IPv4 address. ValueError for text that is not an address."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if int(ip) >> 32 == 0 and int(ip) > 1:  # IPv4-compatible ::a.b.c.d (deprecated, still parsed)
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        elif ip in NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        else:
            ip = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None) or ip
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                                 or ip.is_unspecified or ip.is_reserved)


class AddressGuard:
    """Lets a fetch reach public addresses only, plus the hosts in ``allowed_hosts`` (names or
    addresses, compared case-insensitively, e.g. ``localhost`` or ``127.0.0.1`` for tests). ``setting``:
    the setting that lists them, named in a refusal (``/url``'s URL_ALLOWED_HOSTS, ``modelUrl``'s
    MODEL_URL_ALLOWED_HOSTS)."""

    def __init__(self, allowed_hosts: Iterable[str] = (), setting: str = "URL_ALLOWED_HOSTS") -> None:
        self.allowed = frozenset(h.strip().strip("[]").lower() for h in allowed_hosts if h.strip())
        self.setting = setting

    def address(self, host: str, port: int) -> str:
        """The address to connect to for ``host``: the first one it resolves to, after every one was
        checked. Raises FetchError for a non-public address, (``network``) when it does not resolve.
        Resolving takes what the system resolver takes (its own timeouts, outside fetch's deadline)."""
        try:
            found = [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
        except (OSError, UnicodeError) as exc:
            raise FetchError(f"{host} does not resolve ({exc.__class__.__name__})", network=True) from exc
        if host.lower() not in self.allowed:
            for address in found:
                if not is_public(str(address)):
                    raise FetchError(f"{host} resolves to {address}, not a public address (allow it with {self.setting})")
        return str(found[0])


def _left(deadline: float, timeout_s: float) -> float:
    """The timeout for the next connect or read, s: ``timeout_s``, or less when the deadline is closer."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError("the download took longer than its deadline", network=True)
    return min(timeout_s, left)


def _target(url: str) -> tuple[SplitResult, str, int]:
    """``url`` split, with its host name and port; raises FetchError (not ``network``: retrying
    cannot help) when it is not an http(s) URL with a valid host name and port."""
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
        if parts.scheme not in ("http", "https") or not host:
            raise FetchError("the URL must start with http:// or https:// and name a host")
        if not _is_address(host):
            host.encode("idna")  # empty, over-long or malformed labels raise UnicodeError
    except ValueError as exc:  # a bad port, or a host name IDNA refuses (UnicodeError)
        raise FetchError(f"the URL does not parse ({exc.__class__.__name__})") from None
    return parts, host, port or (443 if parts.scheme == "https" else 80)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _open(url: str, timeout_s: float, deadline: float, guard: AddressGuard | None) -> tuple[socket.socket, HTTPResponse]:
    """GET ``url``, following redirects: the socket and response of the last hop, its body not read yet."""
    for _hop in range(MAX_REDIRECTS + 1):
        parts, host, port = _target(url)
        address = guard.address(host, port) if guard is not None else host
        sock = socket.create_connection((address, port), timeout=_left(deadline, timeout_s))
        try:
            connection: HTTPConnection = HTTPConnection(host, port)
            if parts.scheme == "https":
                sock = TLS.wrap_socket(sock, server_hostname=host)
                connection = HTTPSConnection(host, port, context=TLS)
            connection.sock = sock  # connected here, to the checked address; http.client sends the Host header
            headers = {"User-Agent": USER_AGENT}
            if parts.username is not None:
                credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
                headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode()
            sock.settimeout(_left(deadline, timeout_s))
            connection.request("GET", urlunsplit(("", "", parts.path or "/", parts.query, "")), headers=headers)
            reply = connection.getresponse()
        except BaseException:
            sock.close()
            raise
        location = reply.getheader("Location") if reply.status in REDIRECTS else None
        if not location:
            return sock, reply
        reply.close()
        sock.close()
        url = urljoin(url, location)
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


def fetch(url: str, timeout_s: float, max_bytes: int, write: Callable[[bytes], object], *,
          deadline_s: float | None = None, guard: AddressGuard | None = None) -> int:
    """Stream ``url`` (http or https only) into ``write``, chunk by chunk; returns the size in bytes.

    timeout_s: per connect and per read, s; deadline_s: for the whole download (every connect and
    read of every hop), s, None for no deadline; guard: the targets allowed (None: any). Bodies are
    taken as sent (no Accept-Encoding, no decompression). Raises FetchError (see its fields).
    """
    deadline = time.monotonic() + (deadline_s if deadline_s is not None else math.inf)
    size = 0
    try:
        sock, reply = _open(url, timeout_s, deadline, guard)
        with sock, reply:
            if reply.status != 200:
                raise FetchError(f"the server answered HTTP {reply.status}", status=reply.status)
            if int(reply.getheader("Content-Length") or 0) > max_bytes:
                raise FetchError(f"it is larger than {max_bytes} bytes", too_large=True)
            while True:
                sock.settimeout(_left(deadline, timeout_s))
                chunk = reply.read1(CHUNK_BYTES)  # what one receive gives: a trickle meets the deadline
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"it is larger than {max_bytes} bytes", too_large=True)
                write(chunk)
    except (OSError, HTTPException, ValueError) as exc:
        raise FetchError(f"no answer ({exc.__class__.__name__})", network=True) from exc
    return size
