"""edgeHub routes: ``FROM <source> [WHERE <condition>] INTO <sink>``, parsed and evaluated.

contract: docs/iotedge.md "Routes". Sources: ``/*``, ``/messages/*``, ``/messages/modules/*``,
``/messages/modules/<m>/*``, ``/messages/modules/<m>/outputs/*``,
``/messages/modules/<m>/outputs/<o>``. Sinks: ``$upstream`` and
``BrokeredEndpoint("/modules/<m>/inputs/<i>")``. Conditions use the IoT Hub query grammar's
common part: application properties by name, system properties (``$contentType``,
``$contentEncoding``, ``$connectionModuleId``, ``$connectionDeviceId``), ``$body.<path>`` for
JSON bodies, literals ('text', numbers, true, false, null), ``= != <> < <= > >=``, ``AND OR NOT``,
parentheses, and IS_DEFINED, IS_NULL, IS_STRING, IS_NUMBER, IS_BOOL, LOWER, UPPER, LENGTH,
CONTAINS, STARTS_WITH, ENDS_WITH. As in IoT Hub, a comparison with an undefined value is
undefined, and a route whose condition is not true does not deliver.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

UPSTREAM = "$upstream"


class RouteError(ValueError):
    """A route that cannot be parsed; the message quotes it and says what is expected."""


class _Undefined:
    def __repr__(self) -> str:
        return "undefined"


UNDEFINED: Any = _Undefined()

_ROUTE = re.compile(r"^\s*FROM\s+(?P<source>\S+)\s+(?:WHERE\s+(?P<where>.+?)\s+)?INTO\s+(?P<sink>.+?)\s*$", re.I | re.S)
_SOURCE = re.compile(r"^/messages/modules/(?P<module>[^/*]+)(?:/\*|/outputs/\*|/outputs/(?P<output>[^/*]+))?$")
_SINK = re.compile(r'^BrokeredEndpoint\(\s*"/modules/(?P<module>[^/"]+)/inputs/(?P<input>[^/"]+)"\s*\)$', re.I)
_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?P<str>'(?:[^']|'')*')|(?P<op><>|!=|<=|>=|=|<|>)"
    r"|(?P<punct>[(),])|(?P<ident>\$?[A-Za-z_][\w\-]*(?:\.[A-Za-z_][\w\-]*)*))"
)


@dataclass(frozen=True)
class MessageView:
    """What a condition can see of a message."""

    module: str
    output: str
    properties: Mapping[str, str]
    system: Mapping[str, str]
    body: Any  # decoded JSON, or UNDEFINED when the body is not JSON with utf-8 encoding


Expr = Callable[[MessageView], Any]


def _lookup(name: str) -> Expr:
    if name.lower().startswith("$body"):
        path = name.split(".")[1:]

        def body(view: MessageView) -> Any:
            node = view.body
            for key in path:
                if not isinstance(node, dict) or key not in node:
                    return UNDEFINED
                node = node[key]
            return node

        return body
    if name.startswith("$"):
        return lambda view: view.system.get(name[1:], UNDEFINED)
    return lambda view: view.properties.get(name, UNDEFINED)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _compare(op: str, a: Any, b: Any) -> Any:
    if a is UNDEFINED or b is UNDEFINED:
        return UNDEFINED
    if op in ("=", "!=", "<>"):
        same = a == b and (_is_number(a) == _is_number(b))
        return same if op == "=" else not same
    if not ((_is_number(a) and _is_number(b)) or (isinstance(a, str) and isinstance(b, str))):
        return UNDEFINED
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "IS_DEFINED": lambda v: v is not UNDEFINED,
    "IS_NULL": lambda v: v is None,
    "IS_STRING": lambda v: isinstance(v, str),
    "IS_NUMBER": _is_number,
    "IS_BOOL": lambda v: isinstance(v, bool),
    "LOWER": lambda v: v.lower() if isinstance(v, str) else UNDEFINED,
    "UPPER": lambda v: v.upper() if isinstance(v, str) else UNDEFINED,
    "LENGTH": lambda v: len(v) if isinstance(v, str) else UNDEFINED,
    "CONTAINS": lambda a, b: b in a if isinstance(a, str) and isinstance(b, str) else UNDEFINED,
    "STARTS_WITH": lambda a, b: a.startswith(b) if isinstance(a, str) and isinstance(b, str) else UNDEFINED,
    "ENDS_WITH": lambda a, b: a.endswith(b) if isinstance(a, str) and isinstance(b, str) else UNDEFINED,
}


class _Parser:
    """Recursive descent over the condition's tokens; builds closures over MessageView."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            match = _TOKEN.match(text, pos)
            if not match or match.end() == pos:
                raise RouteError(f"cannot read the condition {text!r} at {text[pos:pos + 12]!r}")
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            pos = match.end()
        self.i = 0

    def _peek(self) -> tuple[str, str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "")

    def _keyword(self, word: str) -> bool:
        kind, value = self._peek()
        if kind == "ident" and value.upper() == word:
            self.i += 1
            return True
        return False

    def _expect(self, value: str) -> None:
        if self._peek()[1] != value:
            raise RouteError(f"expected {value!r} in the condition {self.text!r}")
        self.i += 1

    def parse(self) -> Expr:
        expr = self._or()
        if self.i != len(self.tokens):
            raise RouteError(f"unexpected {self._peek()[1]!r} in the condition {self.text!r}")
        return expr

    def _or(self) -> Expr:
        left = self._and()
        while self._keyword("OR"):
            left = _joined(_or, left, self._and())
        return left

    def _and(self) -> Expr:
        left = self._not()
        while self._keyword("AND"):
            left = _joined(_and, left, self._not())
        return left

    def _not(self) -> Expr:
        if self._keyword("NOT"):
            inner = self._not()
            return lambda v: UNDEFINED if (r := inner(v)) is UNDEFINED else (not r if isinstance(r, bool) else UNDEFINED)
        return self._comparison()

    def _comparison(self) -> Expr:
        left = self._operand()
        kind, op = self._peek()
        if kind != "op":
            return left
        self.i += 1
        right = self._operand()
        return lambda v: _compare(op, left(v), right(v))

    def _operand(self) -> Expr:
        kind, value = self._peek()
        self.i += 1
        if kind == "num":
            number = float(value) if any(c in value for c in ".eE") else int(value)
            return lambda _v: number
        if kind == "str":
            text = value[1:-1].replace("''", "'")
            return lambda _v: text
        if value == "(":
            inner = self._or()
            self._expect(")")
            return inner
        if kind == "ident":
            upper = value.upper()
            if upper in ("TRUE", "FALSE", "NULL"):
                constant = {"TRUE": True, "FALSE": False, "NULL": None}[upper]
                return lambda _v: constant
            if self._peek()[1] == "(":
                return self._call(upper)
            return _lookup(value)
        raise RouteError(f"unexpected {value!r} in the condition {self.text!r}" if value else
                         f"the condition {self.text!r} ends where a value is expected")

    def _call(self, name: str) -> Expr:
        if name not in _FUNCTIONS:
            raise RouteError(f"function {name} is not supported by the local runner ({', '.join(_FUNCTIONS)} are)")
        self._expect("(")
        args: list[Expr] = []
        if self._peek()[1] != ")":
            args.append(self._or())
            while self._peek()[1] == ",":
                self.i += 1
                args.append(self._or())
        self._expect(")")
        fn = _FUNCTIONS[name]

        def call(view: MessageView) -> Any:
            values = [a(view) for a in args]
            if name != "IS_DEFINED" and any(x is UNDEFINED for x in values):
                return UNDEFINED
            try:
                return fn(*values)
            except TypeError:
                return UNDEFINED

        return call


def _joined(logic: Callable[[Any, Any], Any], a: Expr, b: Expr) -> Expr:
    return lambda view: logic(a(view), b(view))


def _and(a: Any, b: Any) -> Any:
    if a is False or b is False:
        return False
    return True if a is True and b is True else UNDEFINED


def _or(a: Any, b: Any) -> Any:
    if a is True or b is True:
        return True
    return False if a is False and b is False else UNDEFINED


@dataclass(frozen=True)
class Route:
    """A parsed route. ``module`` / ``output`` None mean any; sink is ``$upstream`` or (module, input)."""

    name: str
    text: str
    module: str | None
    output: str | None
    sink_module: str | None
    sink_input: str | None
    condition: Expr | None

    @property
    def upstream(self) -> bool:
        return self.sink_module is None

    def delivers(self, view: MessageView) -> bool:
        """True when a message from ``view.module``'s ``view.output`` goes through this route."""
        if self.module is not None and self.module != view.module:
            return False
        if self.output is not None and self.output != view.output:
            return False
        return self.condition is None or self.condition(view) is True


def parse_route(name: str, text: str) -> Route:
    """Parse one route; raises RouteError quoting it."""
    match = _ROUTE.match(text)
    if not match:
        raise RouteError(f"route {name!r} is not 'FROM <source> [WHERE <condition>] INTO <sink>': {text!r}")
    source, sink = match["source"], match["sink"].strip()
    if source in ("/*", "/messages/*", "/messages/modules/*"):
        module = output = None
    elif source == "/twinChangeNotifications":
        raise RouteError(f"route {name!r}: /twinChangeNotifications is not routed by the local runner")
    else:
        src = _SOURCE.match(source)
        if not src:
            raise RouteError(f"route {name!r}: source {source!r} is not /messages/modules/<module>/outputs/<output> (or a /* form)")
        module, output = src["module"], src["output"]
    if sink == UPSTREAM:
        sink_module = sink_input = None
    else:
        dst = _SINK.match(sink)
        if not dst:
            raise RouteError(f'route {name!r}: sink {sink!r} is not $upstream or BrokeredEndpoint("/modules/<module>/inputs/<input>")')
        sink_module, sink_input = dst["module"], dst["input"]
    try:
        condition = _Parser(match["where"]).parse() if match["where"] else None
    except RouteError as exc:
        raise RouteError(f"route {name!r}: {exc}; write a condition like tagName = 'Apple' AND $body.probability > 0.5") from None
    return Route(name, text, module, output, sink_module, sink_input, condition)
