"""Module settings: defaults < environment variables < module-twin desired properties (live ones only).

Each module declares one immutable pydantic model derived from :class:`ModuleSettings`, and every
field says what kind of setting it is:

- :func:`live` fields are read from the environment variable (``FRAME_RATE``) at start and follow
  the module twin's desired property (``frameRate``) while the module runs;
- :func:`startup` fields are read once, from the environment (the deployment manifest's ``env``);
  a desired property for one is refused with a reason that says where to set it;
- secrets (``SecretStr`` fields) are start-up settings that are never echoed anywhere.

:class:`SettingsStore` owns the current settings. Desired-property patches are handed off the
transport's thread to the store's own worker (patches waiting are merged as IoT Hub merges them into
the desired document, which is then applied whole), which
merges them into the last good desired values, validates them strictly (JSON types: ``true`` is
not a number), swaps the result in whole, calls the listeners, and acknowledges the outcome in
reported properties. A value that does not validate is refused with a short reason there, and the
module keeps its last good value for that setting.
"""

from __future__ import annotations

import json
import re
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from edgekit.hub import Hub, HubSendError, apply_patch
from edgekit.inbox import Inbox
from edgekit.redact import redact, redact_value
from edgekit.workers import add_error_listener, count_error, worker_errors

logger = logging.getLogger(__name__)

Scope = Literal["live", "startup"]
SCOPE_KEY = "x-scope"

MAX_DESIRED_CHARS = 1024  # longest desired value accepted (JSON-encoded), characters
RUNTIME_VARIABLES = ("LOG_LEVEL",)  # start-up variables every module reads outside its settings (edgekit.runtime)
EXCERPT_CHARS = 40  # longest excerpt of a refused value echoed in a reason
MAX_REASONS = 24  # refused keys listed one by one in desiredStatus; more are counted
MAX_REPORT_BYTES = 16 * 1024  # a reported patch is kept under this (IoT Hub's limit is 32 KB for the document)


def live(default: Any, **constraints: Any) -> Any:
    """A setting that follows the module twin: env variable at start, desired property while running.

    constraints: pydantic ``Field`` arguments (``ge``, ``le``, ``max_length``, ...).
    """
    return Field(default, json_schema_extra={SCOPE_KEY: "live"}, **constraints)


def startup(default: Any, **constraints: Any) -> Any:
    """A setting read once at start from the environment (the deployment manifest's ``env``)."""
    return Field(default, json_schema_extra={SCOPE_KEY: "startup"}, **constraints)


class ModuleSettings(BaseModel):
    """Base of every module's settings (frozen; unknown twin keys are refused).

    Every field must be declared with :func:`live` or :func:`startup`; a ``SecretStr`` field must be
    a start-up setting. Both are checked when the class is defined (TypeError).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)

    SECRET_MASK: ClassVar[str] = "**********"
    # twin keys that were settings of this module and moved elsewhere -> where to set them now (the refusal's reason)
    MOVED: ClassVar[dict[str, str]] = {}

    # Every module's: the address its servers (metrics; the classifier's API, the live view) listen on. In a
    # container all of its interfaces (what the deployment publishes decides what the host exposes); the local
    # runner gives 127.0.0.1, so nothing it starts is reachable from another machine.
    bind_address: str = startup("0.0.0.0", pattern=r"^(\d{1,3}(\.\d{1,3}){3}|[0-9A-Fa-f:]{2,39})$")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        for name, info in cls.model_fields.items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            scope = extra.get(SCOPE_KEY)
            if scope not in ("live", "startup"):
                raise TypeError(f"{cls.__name__}.{name}: declare it with live(...) or startup(...)")
            if cls.is_secret(name) and scope != "startup":
                raise TypeError(f"{cls.__name__}.{name}: a secret must be a startup(...) setting")

    @field_validator("*", mode="after")
    @classmethod
    def _utf8_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("must be UTF-8 text (it holds a lone surrogate)") from None
            if "\x00" in value:
                raise ValueError("must not contain a NUL character")
        return value

    @classmethod
    def env_name(cls, field: str) -> str:
        """Environment variable of a field: ``frame_rate`` -> ``FRAME_RATE``."""
        return field.upper()

    @classmethod
    def twin_name(cls, field: str) -> str:
        """Desired-property name of a field: ``frame_rate`` -> ``frameRate``."""
        return cls.model_fields[field].alias or field

    @classmethod
    def scope(cls, field: str) -> Scope:
        """"live" (follows desired properties) or "startup" (environment only, read once)."""
        extra = cls.model_fields[field].json_schema_extra
        return "live" if isinstance(extra, dict) and extra.get(SCOPE_KEY) == "live" else "startup"

    @classmethod
    def is_secret(cls, field: str) -> bool:
        """True for a key or password (a ``SecretStr`` field): never desired, never echoed."""
        return cls.model_fields[field].annotation is SecretStr

    @classmethod
    def live_fields(cls) -> list[str]:
        """Field names that follow the module twin, in declaration order."""
        return [f for f in cls.model_fields if cls.scope(f) == "live"]

    @classmethod
    def startup_fields(cls) -> list[str]:
        """Field names read once from the environment, in declaration order."""
        return [f for f in cls.model_fields if cls.scope(f) == "startup"]

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> dict[str, str]:
        """The raw values of this model's fields present in ``environ``, keyed by field name.

        Empty strings count as unset (a template variable left blank in ``.env``).
        """
        values = {name: environ[cls.env_name(name)] for name in cls.model_fields if cls.env_name(name) in environ}
        return {name: value for name, value in values.items() if value != ""}

    def reported(self) -> dict[str, Any]:
        """Effective settings for reported properties, keyed by twin name; secrets masked, URL credentials masked."""
        data = self.model_dump(mode="json", by_alias=True)
        for name in type(self).model_fields:
            if self.is_secret(name):
                data[self.twin_name(name)] = self.SECRET_MASK if getattr(self, name).get_secret_value() else ""
        return redact_value(data)

    def live_desired(self) -> dict[str, Any]:
        """The live settings as a desired-properties document (JSON types, keyed by twin name)."""
        data = self.model_dump(mode="json", by_alias=True)
        return {self.twin_name(f): data[self.twin_name(f)] for f in self.live_fields()}


S = TypeVar("S", bound=ModuleSettings)


class SettingsError(ValueError):
    """Values that do not validate; ``problems`` maps a twin name to the reason."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{key}: {why}" for key, why in problems.items()))
        self.problems = problems


def excerpt(value: Any, secret: bool = False) -> str:
    """A short, credential-free rendering of a refused value for a reason (never a secret)."""
    if secret:
        return "a secret (not shown)"
    text = redact(repr(value))
    if len(text) <= EXCERPT_CHARS:
        return text
    return f"{text[:EXCERPT_CHARS - 3]}... ({len(text)} characters)"


def _problems(model: type[ModuleSettings], error: ValidationError) -> dict[str, str]:
    problems: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else ""
        key = model.twin_name(field) if field in model.model_fields else field or "settings"
        secret = field in model.model_fields and model.is_secret(field)
        message = item["msg"]
        problems[key] = f"{message} (got {excerpt(item['input'], secret)})" if "input" in item else message
    return problems


def build(model: type[S], values: Mapping[str, Any], *, strict: bool = False) -> S:
    """Validate ``values`` (keyed by field name) into ``model``; raises SettingsError naming each bad key.

    strict: JSON types only (desired properties): no string-to-number or number-to-bool coercion.
    """
    try:
        return model.model_validate(dict(values), strict=strict)
    except ValidationError as exc:
        raise SettingsError(_problems(model, exc)) from exc


def build_lenient(model: type[S], values: Mapping[str, Any]) -> tuple[S, dict[str, str]]:
    """Like :func:`build`, but drops each bad value (falling back to its default) instead of failing.

    Returns the settings and the problems that were dropped. Raises SettingsError only when
    the model cannot be built even from its defaults (a required field without a value).
    """
    values = dict(values)
    dropped: dict[str, str] = {}
    for _ in range(len(values) + 1):
        try:
            return build(model, values), dropped
        except SettingsError as exc:
            fields = {f for f in model.model_fields if model.twin_name(f) in exc.problems and f in values}
            if not fields:
                raise SettingsError({**dropped, **exc.problems}) from exc
            for f in fields:
                values.pop(f)
            dropped.update({k: v for k, v in exc.problems.items() if k in {model.twin_name(f) for f in fields}})
    raise SettingsError(dropped)


Listener = Callable[[S, S], None]
_Update = tuple[bool, dict[str, Any], dict[str, Any]]  # (full document?, desired document or patch, document after it)


def _coalesce(waiting: _Update, new: _Update) -> _Update:
    """Newest wins: what waits is replaced by the desired document as IoT Hub holds it after ``new``
    (every patch merged into it in order, recursively, null deleting: :func:`edgekit.hub.apply_patch`),
    applied whole. Two patches cannot be merged into one patch: ``{"a": null}`` then ``{"a": {"b": 1}}``
    means "a is now exactly {b: 1}", which no single patch says."""
    return True, new[2], new[2]


class SettingsStore(Generic[S]):
    """Holds a module's current settings and keeps them in step with its module twin.

    ``current`` is always a complete, validated, immutable settings object. Listeners are called
    with ``(old, new)`` after each change on the store's worker thread (never the transport's);
    an exception in one is logged and counted (``listener_errors``) and the others still run.
    """

    def __init__(self, model: type[S], environ: Mapping[str, str], hub: Hub | None = None) -> None:
        self.model = model
        self._hub = hub
        self._lock = threading.Lock()
        self._listeners: list[Listener[S]] = []
        self.listener_errors = 0
        env, problems = self._valid_environment(model, environ)
        self._base: S = build(model, env)  # defaults < environment, typed
        self._desired: dict[str, Any] = {}  # accepted desired values, keyed by field name
        self.current: S = self._base
        self._status: dict[str, Any] = {"version": None, "status": "defaults", "refused": ""}
        if problems:
            self._status["refused"] = _describe(problems)
        self._forget_errors: Callable[[], None] = lambda: None
        self._document: dict[str, Any] = {}  # the desired document as IoT Hub holds it, after the last update queued
        self._queueing = threading.Lock()  # the document and the queue change together, in the order updates come
        self._updates: Inbox[_Update] = Inbox(self._apply_update, capacity=1, name="settings", coalesce=_coalesce)

    @staticmethod
    def _valid_environment(model: type[S], environ: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
        raw = model.from_environment(environ)
        _, problems = build_lenient(model, raw)
        bad = {f for f in model.model_fields if model.twin_name(f) in problems}
        for key, why in problems.items():
            logger.error("ignoring environment variable %s: %s", _env_of(model, key), why)
        return {f: v for f, v in raw.items() if f not in bad}, problems

    def add_listener(self, listener: Listener[S], since: S | None = None) -> None:
        """Call ``listener(old, new)`` whenever the settings change (on the store's worker thread).

        since: the settings the caller built its object from; when a patch changed them meanwhile,
        ``listener(since, current)`` is called at once (on this thread), so no change is missed.
        """
        with self._lock:
            self._listeners.append(listener)
            current = self.current
        if since is not None and since != current:
            listener(since, current)

    def start(self, timeout_s: float = 30.0) -> None:
        """Twin handshake: follow patches, read the full desired document, apply it and report.

        Returns once the document is applied (or after ``timeout_s``), so ``current`` holds it.
        """
        if self._hub is None:
            return
        self._hub.set_desired_handler(self.submit)
        self._forget_errors = add_error_listener(lambda _counts: self.report())
        try:
            desired = self._hub.get_desired()
        except HubSendError as exc:
            logger.warning("could not read the module twin, running on environment settings: %s", exc)
            desired = {}
        with self._queueing:
            self._document = dict(desired)
            self._updates.put((True, dict(desired), self._document))
        self.wait_idle(timeout_s)

    def submit(self, patch: Mapping[str, Any]) -> None:
        """Queue a desired-properties patch for the worker (any thread; returns at once). Patches that
        come while the worker is busy wait as the one desired document they lead to (see :func:`_coalesce`)."""
        with self._queueing:
            self._document = apply_patch(self._document, patch)
            self._updates.put((False, dict(patch), self._document))

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        """Block until every queued patch is applied; False after ``timeout_s``."""
        return self._updates.wait_idle(timeout_s)

    def close(self) -> None:
        """Stop the worker after what is queued, and stop reporting worker errors."""
        self._forget_errors()
        self._updates.close()

    def _apply_update(self, update: _Update) -> None:
        full, document, _after = update
        self.apply(document, full=full)

    def _refusal(self, key: str, value: Any) -> tuple[str | None, str | None]:
        """(field, None) for a live key with an acceptable value, else (None or field, reason)."""
        by_twin = {self.model.twin_name(f): f for f in self.model.model_fields}
        field = by_twin.get(key) or (key if key in self.model.model_fields else None)
        if field is None:
            variable = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).upper()
            if variable in RUNTIME_VARIABLES:
                return None, (f"a start-up setting: set {variable} in the module's env in the deployment manifest "
                              "(read once at start), not as a desired property")
            return None, self.model.MOVED.get(key, "unknown setting")
        if self.model.is_secret(field):
            return field, (f"a secret: set {self.model.env_name(field)} in the module's env (from .env); "
                           "secrets are never desired properties")
        if self.model.scope(field) != "live":
            return field, (f"a start-up setting: set {self.model.env_name(field)} in the module's env in the "
                           "deployment manifest (read once at start), not as a desired property")
        if value is not None:
            size = len(json.dumps(value))
            if size > MAX_DESIRED_CHARS:
                return field, f"too long: {size} characters (at most {MAX_DESIRED_CHARS})"
        return field, None

    def apply(self, document: Mapping[str, Any], *, full: bool) -> dict[str, str]:
        """Apply a desired-properties document (``full``) or patch now, on this thread; returns the refused keys.

        Keys starting with ``$`` are metadata; ``None`` removes an override (back to the
        environment or default value). Good keys are applied even when others are refused.
        """
        version = document.get("$version")
        with self._lock:
            candidate = {} if full else dict(self._desired)
            refused: dict[str, str] = {}
            for key, value in document.items():
                if key.startswith("$"):
                    continue
                field, why = self._refusal(key, value)
                if why is not None:
                    if not (full and field is not None and value is None):
                        refused[_short_key(key)] = why
                    continue
                assert field is not None
                if value is None:
                    candidate.pop(field, None)
                elif isinstance(value, dict):  # a patch names only the changed nested keys; a full document replaces
                    current = candidate.get(field)
                    candidate[field] = apply_patch(current if isinstance(current, dict) and not full else {}, value)
                else:
                    candidate[field] = value
            base = {f: getattr(self._base, f) for f in self.model.model_fields}
            try:
                new = build(self.model, {**base, **candidate}, strict=True)
            except SettingsError as exc:
                refused.update(exc.problems)
                bad = {f for f in self.model.model_fields if self.model.twin_name(f) in exc.problems}
                for f in bad:  # keep the last good value of each refused setting
                    if f in self._desired:
                        candidate[f] = self._desired[f]
                    else:
                        candidate.pop(f, None)
                try:
                    new = build(self.model, {**base, **candidate}, strict=True)
                except SettingsError as again:
                    refused.update(again.problems)
                    new, candidate = self.current, dict(self._desired)
            old, self.current, self._desired = self.current, new, candidate
            listeners = list(self._listeners)  # a listener added after this swap catches up in add_listener
            status = "refused" if refused and new == old and document else ("partly applied" if refused else "applied")
            self._status = {"version": version, "status": status, "refused": _describe(refused)}
        if refused:
            logger.warning("desired properties refused (version %s): %s", version, self._status["refused"])
        if new != old:
            logger.info("settings changed: %s", _diff(old, new))
            for listener in listeners:
                try:
                    listener(old, new)
                except Exception:  # noqa: BLE001 - one failing listener must not stop the others or the store
                    self.listener_errors += 1
                    count_error("settings")
                    logger.exception("applying the new settings failed in %s", getattr(listener, "__qualname__", listener))
        self.report()
        return refused

    def report(self, **extra: Any) -> None:
        """Report the effective settings, the outcome of the last desired update, the worker errors
        so far (``workerErrors``: thread name -> count, see :mod:`edgekit.workers`) and the outbox of
        messages for edgeHub (``outbox``: queued, delivered, dropped), plus ``extra``.

        Every string is passed through :func:`edgekit.redact.redact`, and the patch is kept under
        ``MAX_REPORT_BYTES`` (long strings are cut to an excerpt).
        """
        if self._hub is None:
            return
        patch = {"settings": self.current.reported(), "desiredStatus": dict(self._status),
                 "workerErrors": worker_errors(), "outbox": self._hub.outbox_status(), **redact_value(extra)}
        try:
            self._hub.report(bounded(patch, MAX_REPORT_BYTES))
        except HubSendError as exc:
            logger.warning("could not report properties: %s", exc)


def bounded(document: dict[str, Any], limit_bytes: int) -> dict[str, Any]:
    """``document`` as it is when its JSON fits ``limit_bytes``; else with every string over 200
    characters cut to an excerpt (and, if still too large, lists cut to their first 10 items)."""
    if len(json.dumps(document)) <= limit_bytes:
        return document

    def cut(value: Any, keep_items: int | None) -> Any:
        if isinstance(value, str) and len(value) > 200:
            return value[:197] + "..."
        if isinstance(value, dict):
            return {k: cut(v, keep_items) for k, v in value.items()}
        if isinstance(value, list):
            return [cut(v, keep_items) for v in (value if keep_items is None else value[:keep_items])]
        return value

    smaller = cut(document, None)
    if len(json.dumps(smaller)) > limit_bytes:
        smaller = cut(document, 10)
    logger.warning("a reported properties patch of %d bytes was cut to %d", len(json.dumps(document)),
                   len(json.dumps(smaller)))
    return smaller


def _short_key(key: str) -> str:
    return key if len(key) <= 64 else key[:61] + "..."


def _env_of(model: type[ModuleSettings], twin_key: str) -> str:
    for f in model.model_fields:
        if model.twin_name(f) == twin_key:
            return model.env_name(f)
    return twin_key


def _describe(problems: Mapping[str, str]) -> str:
    if not problems:
        return ""
    items = list(problems.items())
    text = "; ".join(f"{key}: {why}" for key, why in items[:MAX_REASONS])
    if len(items) > MAX_REASONS:
        text += f"; and {len(items) - MAX_REASONS} more refused keys"
    return text


def _diff(old: ModuleSettings, new: ModuleSettings) -> str:
    a, b = old.reported(), new.reported()
    changed: Iterable[str] = (f"{k}={excerpt(b[k])}" for k in b if a.get(k) != b[k])
    return ", ".join(changed)
