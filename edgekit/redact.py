"""Credentials out of everything a module writes: logs, reported properties, messages, pages, metrics.

One place every module uses. :func:`redact` finds URLs and connection-string secrets in any text and
masks the secret parts:

- a URL's password (``rtsp://user:***@camera/stream``);
- SAS tokens: every query value of a URL with a ``sig`` parameter (Azure Storage SAS), and the
  value of any query parameter that names a credential (``token``, ``key``, ``password``, ...);
- ``SharedAccessKey=``, ``AccountKey=``, ``SharedAccessSignature=`` and ``password=`` values in
  connection strings.

:class:`RedactingFormatter` applies it to every log line (tracebacks included), installed by
:func:`edgekit.runtime.configure_logging`. It also escapes the control characters (``\x1b``, CR, LF, ...)
of every string argument of a log call (``logger.info("showing %s", tag)``: values that may come from
outside, a message or a twin), so that a value cannot forge a log line or drive the terminal; an argument the
module itself composed with control characters on purpose (the display's ANSI matrix) is wrapped in
:class:`Verbatim`.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

MASK = "***"

# Query parameters whose value is a credential wherever they appear.
SECRET_QUERY_KEYS = frozenset({
    "sig", "signature", "password", "passwd", "pwd", "token", "access_token", "refresh_token", "id_token",
    "key", "apikey", "api-key", "api_key", "secret", "client_secret", "code", "auth", "authorization",
    "subscription-key", "x-amz-signature", "x-amz-credential", "x-amz-security-token", "x-goog-signature",
    "x-goog-credential", "sharedaccesssignature", "sharedaccesskey",
})

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{1,15}://[^\s'\"<>`]+")
_CONNECTION_SECRET = re.compile(
    r"(?i)\b(SharedAccessKey|AccountKey|SharedAccessSignature|Password|Pwd|Secret)=([^;&\s'\"]+)")


def redact_url(url: str) -> str:
    """``url`` with its password and credential query values replaced by ``***``; other text unchanged.

    Text that does not parse as a URL is returned as it is.
    """
    try:
        parts = urlsplit(url)
        password = parts.password
        port = parts.port
    except ValueError:
        return url
    netloc = parts.netloc
    if password is not None:
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{parts.username or ''}:{MASK}@{host}" + (f":{port}" if port else "")
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        sas = any(k.lower() == "sig" for k, _ in pairs)
        if sas or any(k.lower() in SECRET_QUERY_KEYS for k, _ in pairs):
            query = "&".join(
                f"{quote(k, safe='')}={MASK if sas or k.lower() in SECRET_QUERY_KEYS else quote(v, safe='')}"
                for k, v in pairs)
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact(text: str) -> str:
    """``text`` with every URL passed through :func:`redact_url` and connection-string secrets masked."""
    if "=" not in text and "@" not in text:
        return text
    text = _URL.sub(lambda m: redact_url(m.group(0)), text)
    return _CONNECTION_SECRET.sub(lambda m: f"{m.group(1)}={MASK}", text)


def redact_value(value: Any) -> Any:
    """A JSON-like value with :func:`redact` applied to every string in it (dicts and lists walked)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    return value


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


class Verbatim(str):
    """A log argument the module composed itself whose control characters are meant (ANSI colours, lines)."""


def escape_controls(text: str) -> str:
    """``text`` with control characters (tab excepted) written as escapes: ``\n``, ``\r``, ``\x1b``."""
    return _CONTROL.sub(lambda m: repr(m.group(0))[1:-1], text)


def _escaped(value: Any) -> Any:
    return escape_controls(value) if isinstance(value, str) and not isinstance(value, Verbatim) else value


class RedactingFormatter(logging.Formatter):
    """A log formatter whose every line, traceback included, has credentials masked, and whose string arguments
    have their control characters escaped (:func:`escape_controls`; not :class:`Verbatim` ones)."""

    def format(self, record: logging.LogRecord) -> str:
        if record.args:
            record = logging.makeLogRecord(record.__dict__)  # a copy: other handlers see the record as logged
            if isinstance(record.args, dict):
                record.args = {key: _escaped(value) for key, value in record.args.items()}
            elif isinstance(record.args, tuple):
                record.args = tuple(_escaped(value) for value in record.args)
        return redact(super().format(record))
