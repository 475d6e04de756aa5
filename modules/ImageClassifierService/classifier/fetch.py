"""Downloading over http(s) with a timeout and a size cap: ``/url`` images and model updates."""

from __future__ import annotations

from collections.abc import Callable

import requests

CHUNK_BYTES = 64 * 1024


class FetchError(RuntimeError):
    """The download failed. ``status``: the HTTP status when the server answered other than 200
    (None otherwise); ``too_large``: the body passed the cap; ``network``: no answer at all."""

    def __init__(self, message: str, status: int | None = None, too_large: bool = False, network: bool = False) -> None:
        super().__init__(message)
        self.status, self.too_large, self.network = status, too_large, network

    @property
    def transient(self) -> bool:
        """Worth retrying later: the network, a server error, or rate limiting."""
        return self.network or (self.status is not None and (self.status >= 500 or self.status == 429))


def fetch(url: str, timeout_s: float, max_bytes: int, write: Callable[[bytes], object]) -> int:
    """Stream ``url`` (http or https only) into ``write``, chunk by chunk; returns the size in bytes.

    timeout_s: per connect and per read, s. Raises FetchError (see its fields).
    """
    if not url.lower().startswith(("http://", "https://")):
        raise FetchError("the URL must start with http:// or https://")
    size = 0
    try:
        with requests.get(url, stream=True, timeout=timeout_s) as reply:
            if reply.status_code != 200:
                raise FetchError(f"the server answered HTTP {reply.status_code}", status=reply.status_code)
            for chunk in reply.iter_content(CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"it is larger than {max_bytes} bytes", too_large=True)
                write(chunk)
    except requests.RequestException as exc:
        raise FetchError(f"no answer ({exc.__class__.__name__})", network=True) from exc
    return size
