"""Module settings: defaults < environment variables < module-twin desired properties.

Each module declares one immutable pydantic model derived from :class:`ModuleSettings`. A field
``frame_rate`` is read from the environment variable ``FRAME_RATE`` and from the desired
property ``frameRate``. :class:`SettingsStore` owns the current settings: it merges a twin patch
into the last good desired values, validates the result, swaps it in whole, and acknowledges it
in reported properties. A value that does not validate is refused with a reason there, and the
module keeps its last good value for that setting.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from edgekit.hub import Hub, HubSendError

logger = logging.getLogger(__name__)


class ModuleSettings(BaseModel):
    """Base of every module's settings (frozen; unknown twin keys are refused)."""

    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)

    @classmethod
    def env_name(cls, field: str) -> str:
        """Environment variable of a field: ``frame_rate`` -> ``FRAME_RATE``."""
        return field.upper()

    @classmethod
    def twin_name(cls, field: str) -> str:
        """Desired-property name of a field: ``frame_rate`` -> ``frameRate``."""
        return cls.model_fields[field].alias or field

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> dict[str, str]:
        """The raw values of this model's fields present in ``environ``, keyed by field name.

        Empty strings count as unset (a template variable left blank in ``.env``).
        """
        values = {name: environ[cls.env_name(name)] for name in cls.model_fields if cls.env_name(name) in environ}
        return {name: value for name, value in values.items() if value != ""}

    def reported(self) -> dict[str, Any]:
        """Effective settings for reported properties, keyed by twin name; secrets masked."""
        return self.model_dump(mode="json", by_alias=True)


S = TypeVar("S", bound=ModuleSettings)


class SettingsError(ValueError):
    """Values that do not validate; ``problems`` maps a twin name to the reason."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{key}: {why}" for key, why in problems.items()))
        self.problems = problems


def _problems(model: type[ModuleSettings], error: ValidationError) -> dict[str, str]:
    problems: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else ""
        key = model.twin_name(field) if field in model.model_fields else field or "settings"
        problems[key] = f"{item['msg']} (got {item.get('input')!r})" if "input" in item else item["msg"]
    return problems


def build(model: type[S], values: Mapping[str, Any]) -> S:
    """Validate ``values`` (keyed by field name) into ``model``; raises SettingsError naming each bad key."""
    try:
        return model.model_validate(dict(values))
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


class SettingsStore(Generic[S]):
    """Holds a module's current settings and keeps them in step with its module twin.

    ``current`` is always a complete, validated, immutable settings object. Listeners are
    called with ``(old, new)`` after each change, on the thread that applied it.
    """

    def __init__(self, model: type[S], environ: Mapping[str, str], hub: Hub | None = None) -> None:
        self.model = model
        self._hub = hub
        self._lock = threading.Lock()
        self._listeners: list[Listener[S]] = []
        self._env, problems = self._valid_environment(model, environ)
        self._desired: dict[str, Any] = {}  # accepted desired values, keyed by field name
        self.current: S = build(model, self._env)
        self._status: dict[str, Any] = {"version": None, "status": "defaults", "refused": ""}
        if problems:
            self._status["refused"] = _describe(problems)

    @staticmethod
    def _valid_environment(model: type[S], environ: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
        raw = model.from_environment(environ)
        _, problems = build_lenient(model, raw)
        bad = {f for f in model.model_fields if model.twin_name(f) in problems}
        for key, why in problems.items():
            logger.error("ignoring environment variable %s: %s", _env_of(model, key), why)
        return {f: v for f, v in raw.items() if f not in bad}, problems

    def add_listener(self, listener: Listener[S]) -> None:
        """Call ``listener(old, new)`` whenever the settings change."""
        self._listeners.append(listener)

    def start(self) -> None:
        """Twin handshake: read the full desired document, apply it, report, and follow patches."""
        if self._hub is None:
            return
        try:
            desired = self._hub.get_desired()
        except HubSendError as exc:
            logger.warning("could not read the module twin, running on environment settings: %s", exc)
            desired = {}
        self.apply(desired, full=True)
        self._hub.set_desired_handler(lambda patch: self.apply(patch, full=False))

    def apply(self, document: Mapping[str, Any], *, full: bool) -> dict[str, str]:
        """Apply a desired-properties document (``full``) or patch; returns the refused keys.

        Keys starting with ``$`` are metadata; ``None`` removes an override (back to the
        environment or default value). Good keys are applied even when others are refused.
        """
        version = document.get("$version")
        with self._lock:
            candidate = {} if full else dict(self._desired)
            unknown: dict[str, str] = {}
            by_twin = {self.model.twin_name(f): f for f in self.model.model_fields}
            for key, value in document.items():
                if key.startswith("$"):
                    continue
                field = by_twin.get(key) or (key if key in self.model.model_fields else None)
                if field is None:
                    unknown[key] = "unknown setting"
                elif value is None:
                    candidate.pop(field, None)
                else:
                    candidate[field] = value
            refused = dict(unknown)
            merged = {**self._env, **candidate}
            try:
                new = build(self.model, merged)
            except SettingsError as exc:
                refused.update(exc.problems)
                bad = {f for f in self.model.model_fields if self.model.twin_name(f) in exc.problems}
                for f in bad:  # keep the last good value of each refused setting
                    if f in self._desired:
                        candidate[f] = self._desired[f]
                    else:
                        candidate.pop(f, None)
                try:
                    new = build(self.model, {**self._env, **candidate})
                except SettingsError as again:
                    refused.update(again.problems)
                    new, candidate = self.current, dict(self._desired)
            old, self.current, self._desired = self.current, new, candidate
            status = "refused" if refused and new == old and document else ("partly applied" if refused else "applied")
            self._status = {"version": version, "status": status, "refused": _describe(refused)}
        if refused:
            logger.warning("desired properties refused (version %s): %s", version, self._status["refused"])
        if new != old:
            logger.info("settings changed: %s", _diff(old, new))
            for listener in self._listeners:
                listener(old, new)
        self.report()
        return refused

    def report(self, **extra: Any) -> None:
        """Report the effective settings and the outcome of the last desired update, plus ``extra``."""
        if self._hub is None:
            return
        patch = {"settings": self.current.reported(), "desiredStatus": dict(self._status), **extra}
        try:
            self._hub.report(patch)
        except HubSendError as exc:
            logger.warning("could not report properties: %s", exc)


def _env_of(model: type[ModuleSettings], twin_key: str) -> str:
    for f in model.model_fields:
        if model.twin_name(f) == twin_key:
            return model.env_name(f)
    return twin_key


def _describe(problems: Mapping[str, str]) -> str:
    return "; ".join(f"{key}: {why}" for key, why in problems.items()) if problems else ""


def _diff(old: ModuleSettings, new: ModuleSettings) -> str:
    a, b = old.reported(), new.reported()
    changed: Iterable[str] = (f"{k}={b[k]!r}" for k in b if a.get(k) != b[k])
    return ", ".join(changed)
