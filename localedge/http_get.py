"""The local tools' HTTP GET (a module's ``/metrics`` or ``/health/ready``, SchemaStore's schema), through urllib3,
the one HTTP client library of the product code (every module image has it: azure-iot-device depends on it).

As ``urllib.request.urlopen`` did: a new connection per request, redirects followed (at most 10), no retry, and a
status of 400 or more is an error.
"""

from __future__ import annotations

from collections.abc import Mapping

import urllib3

MAX_REDIRECTS = 10  # urllib.request's limit


def get(url: str, timeout_s: float, headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
    """GET ``url`` (http or https; certificates checked against the system's) and read the whole body.

    timeout_s: the connect timeout and the read timeout (each, in seconds). Returns (status, body) for a status
    below 400. Raises OSError naming why for a status of 400 or more, a connection refused, lost or timed out;
    ValueError for a URL that is not one.
    """
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"{url!r}: not an http:// or https:// URL")
    retries = urllib3.Retry(total=None, connect=0, read=0, redirect=MAX_REDIRECTS, status=0, other=0)
    with urllib3.PoolManager(retries=retries, timeout=urllib3.Timeout(connect=timeout_s, read=timeout_s)) as pool:
        try:
            reply = pool.request("GET", url, headers=dict(headers or {}))
        except urllib3.exceptions.LocationValueError as exc:
            raise ValueError(f"{url!r} is not a URL ({exc})") from None
        except urllib3.exceptions.MaxRetryError as exc:
            raise OSError(str(exc.reason or exc)) from None
        except urllib3.exceptions.HTTPError as exc:
            raise OSError(str(exc)) from None
    if reply.status >= 400:
        raise OSError(f"HTTP Error {reply.status}: {reply.reason}")
    return reply.status, reply.data
