"""edgeHub routes: ``FROM <source> [WHERE <condition>] INTO <sink>``, parsed and evaluated as edgeHub does.

contract: docs/iotedge.md "Routes", and edgeHub's route grammar and condition compiler (Azure/iotedge,
``Microsoft.Azure.Devices.Routing.Core``), which implement IoT Hub's routing query language.

A route value in the manifest is a string or, from ``$edgeHub`` schema 1.1, an object
``{"route": "...", "priority": 0-9, "timeToLiveSecs": N}``. Priority 0 is the highest; a route without one
gets edgeHub's default, :data:`DEFAULT_PRIORITY`, below every explicit one. ``timeToLiveSecs`` 0 or
absent means the manifest-wide ``storeAndForwardConfiguration.timeToLiveSecs``.

Sources (matched by prefix, without regard to case, as edgeHub does): ``/*``, ``/messages/*``,
``/messages/modules/*``, ``/messages/modules/<m>/*``, ``/messages/modules/<m>/outputs/*``,
``/messages/modules/<m>/outputs/<o>`` and ``/twinChangeNotifications`` (modules' reported-property changes).
Sinks: ``$upstream`` and ``BrokeredEndpoint("/modules/<m>/inputs/<i>")``.

Conditions, with edgeHub's precedence (high to low): ``-x``, ``NOT x``; ``* / %``; ``+ - ||``;
``< <= > >=``; ``= != <>``; ``AND``; ``OR``; ``??`` (the left value when it is defined, else the right).

- ``name``: an application property (always a string); ``$name``: the application property ``$name`` when
  the message has one, else the system property (``$contentType``, ``$contentEncoding``, ``$messageId``,
  ``$correlationId``, ``$userId``, ``$connectionDeviceId``, ``$connectionModuleId``, ``$outputName``, ...);
  ``{$name}`` the system property only.
- ``$body.a.b[0].c``: the JSON body (contentType application/json, contentEncoding utf-8, a JSON object);
  one array index per name. As in edgeHub: nothing at the path (a missing member or element) is **null**,
  not undefined, and null sorts above numbers, so ``$body.x > 0.5`` is true when ``x`` is missing (guard
  with ``IS_NUMBER($body.x) AND ...``); an object, an array or an ISO 8601 date-time string
  (``2026-11-20T10:00:00Z``, a date to edgeHub's JSON reader) is undefined. Test for null with
  ``$body.x = null``: edgeHub's ``IS_NULL($body.x)`` is true for any value present, so it is refused.
- Literals: ``'text'`` or ``"text"`` (escapes ``\\'`` ``\\"`` ``\\\\`` ``\\uXXXX``), numbers (``12``, ``0.6``,
  ``1e3``, ``0x1F``), ``true``, ``false``, ``null``, ``undefined``.
- Functions (names in any case): ABS EXP POWER SQUARE CEILING FLOOR SIGN SQRT, AS_NUMBER IS_BOOL
  IS_DEFINED IS_NULL IS_NUMBER IS_STRING, CONCAT LENGTH LOWER UPPER SUBSTRING INDEX_OF STARTS_WITH ENDS_WITH
  CONTAINS. IoT Hub's IS_ARRAY, IS_OBJECT and IS_PRIMITIVE are not in edgeHub, so they are refused.

Types are checked when the route is parsed, as edgeHub's compiler does: application and system properties
are strings (found without regard to case), so ``schemaVersion = 1`` is refused (write
``schemaVersion = '1'``); ``$body`` values take any type. At run time a missing property, a failed
function or a comparison with an undefined value is undefined; ``AND``/``OR``/``NOT`` use three-valued
logic (``false AND undefined`` is false, ``true OR undefined`` is true); a route delivers only when its
condition is true. A ``$body`` value compared with a value of another type is ordered by type
(boolean < number < string < null), as edgeHub does. Stricter than edgeHub, which accepts them and then
never delivers or reads them as property names: a condition that is a bare string or number, ``TRUE`` in
capitals, ``'it''s'`` and ``-$body.x`` (no space) are refused with the fix.
Errors are :class:`RouteError` with one line that names the route and says what to write instead.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any


UPSTREAM = "$upstream"
DEFAULT_PRIORITY = 2_000_000_000
"""edgeHub's priority for a route that gives none: below 0-9 (0 is the highest)."""
MAX_TIME_TO_LIVE_S = 4_294_967_295
TWIN_CHANGES = "/twinChangeNotifications"


class RouteError(ValueError):
    """A route that cannot be parsed; the message names it and says what is expected."""


class _SyntaxError(RouteError):
    """A condition that does not follow the grammar (the route's error adds an example)."""


class _Undefined:
    def __repr__(self) -> str:
        return "undefined"


UNDEFINED: Any = _Undefined()


@dataclass(frozen=True)
class MessageView:
    """What a condition can see of a message: the module and output it came from, its application
    ``properties``, its ``system`` properties by edgeHub's names (``contentType``, ``contentEncoding``,
    ``connectionModuleId``, ``connectionDeviceId``, ``outputName``, ``messageId``, ...) and its ``body``
    (decoded JSON, or UNDEFINED when the body is not JSON with utf-8 encoding)."""

    module: str
    output: str
    properties: Mapping[str, str]
    system: Mapping[str, str]
    body: Any


Expr = Callable[[MessageView], Any]


class _T(Enum):
    """Static types of edgeHub's condition compiler; ANY is a $body value (its type known at run time)."""

    BOOL = "true/false"
    NUMBER = "a number"
    STRING = "a string"
    NULL = "null"
    UNDEFINED = "undefined"
    ANY = "a $body value"


_SUPPORTED = (_T.NULL, _T.NUMBER, _T.STRING, _T.BOOL)  # the types a $body value can stand in for


@dataclass(frozen=True)
class _Typed:
    type: _T
    fn: Expr
    text: str

    def describe(self) -> str:
        kind = self.type.value
        if self.type is _T.STRING and _PROPERTY_NAME.fullmatch(self.text):
            kind = "a string, an application property"
        return f"{kind} ({self.text})"


# ---------------------------------------------------------------------------------------------- lexer
# edgeHub's lexer (GrammarLexer.g4): at each position the longest match wins, ties go to the earlier rule.
_ESC = r"""\\(?:["'\\]|u[0-9A-Fa-f]{4})"""
_RULES: list[tuple[str, re.Pattern[str]]] = [
    (kind, re.compile(pattern, re.S)) for kind, pattern in (
        ("{", r"\{"), ("}", r"\}"),
        ("select", "[Ss][Ee][Ll][Ee][Cc][Tt]"), ("from", "[Ff][Rr][Oo][Mm]"), ("where", "[Ww][Hh][Ee][Rr][Ee]"),
        ("into", "[Ii][Nn][Tt][Oo]"),
        ("string", rf""""(?:{_ESC}|[^"\\])*"|'(?:{_ESC}|[^'\\])*'"""),
        ("unterminated", rf""""(?:{_ESC}|[^"\\])*|'(?:{_ESC}|[^'\\])*"""),
        ("number", r"-?[0-9]+"), ("hex", r"0[xX][0-9A-Fa-f]+"),
        ("number", r"-?[0-9]*\.[0-9]+(?:[eE][+\-]?[0-9]+)?|-?[0-9]*[eE][+\-]?[0-9]+"),
        ("true", "true"), ("false", "false"), ("null", "null"), ("undefined", "undefined"),
        ("(", r"\("), (")", r"\)"), (",", ","), ("+", r"\+"), ("-", "-"), ("*", r"\*"), ("/", "/"), ("%", "%"),
        ("and", "[Aa][Nn][Dd]"), ("or", "[Oo][Rr]"), ("not", "[Nn][Oo][Tt]"),
        ("=", "="), ("!=", "!="), ("<>", "<>"), ("<=", "<="), (">=", ">="), (">", ">"), ("<", "<"),
        ("||", r"\|\|"), ("??", r"\?\?"),
        ("sysprop", r'\$[^()<>@,;:\\"/?={} \t\n\r]+'),
        ("id", r'[^()<>@,;:\\"/\[\]?={} \t\n\r]+'),
        ("ws", r"[ \t\r\n]+"), ("comment", r"/\*.*?\*/"),
        ("unknown", "."),
    )
]
_PROPERTY_NAME = re.compile(r'[^()<>@,;:\\"/\[\]?={} \t\n\r$\'][^()<>@,;:\\"/\[\]?={} \t\n\r]*')


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    start: int
    end: int


def _lex(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        kind, end = "unknown", pos
        for rule, pattern in _RULES:
            match = pattern.match(text, pos)
            if match and match.end() > end:  # longer wins; of equal lengths, the earlier rule
                kind, end = rule, match.end()
        if kind not in ("ws", "comment"):
            tokens.append(_Token(kind, text[pos:end], pos, end))
        pos = end
    return tokens


def _unescape(text: str) -> str:
    text = re.sub(r"\\[Uu]([0-9A-Fa-f]{4})", lambda m: chr(int(m.group(1), 16)), text)
    return re.sub(r"""\\(["'\\])""", lambda m: m.group(1), text)


# --------------------------------------------------------------------------------------- run-time values
def _number(value: Any) -> float | None:
    """The value as edgeHub's double when it is a defined number (not a boolean, not NaN), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond a double's range, as JSON allows
        number = math.inf if value > 0 else -math.inf
    return None if math.isnan(number) else number


def _get(properties: Mapping[str, Any], name: str) -> Any:
    """A property by name without regard to case, as edgeHub's message dictionaries; UNDEFINED when absent."""
    if name in properties:
        return properties[name]
    folded = name.casefold()
    return next((value for key, value in properties.items() if key.casefold() == folded), UNDEFINED)


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _result(number: float) -> Any:
    return UNDEFINED if math.isnan(number) else number


def _kind(value: Any) -> tuple[int, Any] | None:
    """A $body-style value's (type rank, comparable value), or None when it is undefined; the ranks are
    edgeHub's QueryValueType order: boolean 1, number 2, string 3, null 4."""
    if value is UNDEFINED:
        return None
    if isinstance(value, bool):
        return 1, value
    number = _number(value)
    if number is not None:
        return 2, number
    if isinstance(value, str):
        return 3, value
    if value is None:
        return 4, None
    return None


_CMP: dict[str, Callable[[int], bool]] = {
    "=": lambda c: c == 0, "!=": lambda c: c != 0, "<>": lambda c: c != 0,
    "<": lambda c: c < 0, "<=": lambda c: c <= 0, ">": lambda c: c > 0, ">=": lambda c: c >= 0,
}


def _order(a: Any, b: Any) -> int:
    return (a > b) - (a < b)


def _compare(op: str, kind: _T, a: Any, b: Any) -> Any:
    """edgeHub's comparison for operands of static type ``kind`` (ANY when either is a $body value)."""
    test = _CMP[op]
    if kind is _T.ANY:
        ka, kb = _kind(a), _kind(b)
        if ka is None or kb is None:
            return UNDEFINED
        if ka[0] != kb[0]:
            return test(ka[0] - kb[0])
        return test(0 if ka[0] == 4 else _order(ka[1], kb[1]))
    if kind is _T.NULL:
        return test(0)
    if kind is _T.NUMBER:
        na, nb = _number(a), _number(b)
        return UNDEFINED if na is None or nb is None else test(_order(na, nb))
    if kind is _T.STRING and isinstance(a, str) and isinstance(b, str):
        return test(_order(a, b))  # ordinal
    if kind is _T.BOOL and isinstance(a, bool) and isinstance(b, bool):
        return test(_order(a, b))  # false < true
    return UNDEFINED  # undefined, or a property whose value is null


def _arith(op: str, a: Any, b: Any) -> Any:
    x, y = _number(a), _number(b)
    if x is None or y is None:
        return UNDEFINED
    if op == "+":
        return _result(x + y)
    if op == "-":
        return _result(x - y)
    if op == "*":
        return _result(x * y)
    if op == "/":
        if y == 0:
            return UNDEFINED if x == 0 else math.copysign(math.inf, x) * math.copysign(1.0, y)
        return _result(x / y)
    try:
        return _result(math.fmod(x, y))  # C#'s % on doubles: the sign of the dividend; x % 0 is NaN
    except ValueError:
        return UNDEFINED


def _and(a: Any, b: Any) -> Any:
    if a is False or b is False:
        return False
    return True if a is True and b is True else UNDEFINED


def _or(a: Any, b: Any) -> Any:
    if a is True or b is True:
        return True
    return False if a is False and b is False else UNDEFINED


# ------------------------------------------------------------------------------------------ functions
def _math(fn: Callable[[float], float]) -> Callable[[Any], Any]:
    def run(value: Any) -> Any:
        x = _number(value)
        if x is None:
            return UNDEFINED
        try:
            return _result(fn(x))
        except OverflowError:
            return math.inf
        except ValueError:
            return UNDEFINED
    return run


def _power(a: Any, b: Any) -> Any:
    x, y = _number(a), _number(b)
    if x is None or y is None:
        return UNDEFINED
    try:
        return _result(math.pow(x, y))
    except OverflowError:
        return math.inf
    except ValueError:
        return UNDEFINED


def _round(fn: Callable[[float], int]) -> Callable[[float], float]:
    return lambda x: float(fn(x)) if math.isfinite(x) else x


def _as_number(value: Any) -> Any:
    text = _string(value)
    if text is None:
        return UNDEFINED if _number(value) is None else _number(value)
    text = text.strip().replace(",", "")
    if "_" in text:
        return UNDEFINED
    try:
        return _result(float(text))
    except ValueError:
        return UNDEFINED


def _strings(fn: Callable[..., Any]) -> Callable[..., Any]:
    def run(*values: Any) -> Any:
        texts = [_string(v) for v in values]
        return UNDEFINED if any(t is None for t in texts) else fn(*texts)
    return run


def _substring(value: Any, start: Any, length: Any = None) -> Any:
    text, first = _string(value), _number(start)
    if text is None or first is None:
        return UNDEFINED
    if length is None:
        return text[int(first):] if 0 <= first <= len(text) else UNDEFINED
    count = _number(length)
    if count is None or not (0 <= first < len(text)) or not (0 <= count <= len(text) - first):
        return UNDEFINED
    return text[int(first):int(first) + int(count)]


def _concat(values: Sequence[Any]) -> Any:
    """CONCAT and ||: strings joined (a property whose value is null counts as ''), else undefined."""
    if not all(isinstance(v, str) or v is None for v in values):
        return UNDEFINED
    return "".join(v or "" for v in values)


@dataclass(frozen=True)
class _Overload:
    params: tuple[_T, ...] | None  # None: any one value
    body_values: bool  # a $body value is accepted for any parameter type it can stand in for
    returns: _T
    run: Callable[..., Any]
    variadic: bool = False

    def matches(self, given: Sequence[_T]) -> bool:
        if self.params is None:
            return len(given) == 1
        if self.variadic:
            fixed = len(self.params) - 1
            expected = list(self.params[:fixed]) + [self.params[-1]] * (len(given) - fixed)
            if len(given) < fixed:
                return False
            return all(g == t or (self.body_values and g is _T.ANY) for t, g in zip(expected, given, strict=True))
        return len(given) == len(self.params) and all(
            t == g or (self.body_values and ((g is _T.ANY and t in _SUPPORTED) or (t is _T.ANY and g in _SUPPORTED)))
            for t, g in zip(self.params, given, strict=True))

    def signature(self) -> str:
        if self.params is None:
            return "any value"
        names = [t.value for t in self.params]
        return f"{', '.join(names[:-1])}, ... {names[-1]}s" if self.variadic else ", ".join(names)


def _o(params: tuple[_T, ...] | None, returns: _T, run: Callable[..., Any], body_values: bool = True,
       variadic: bool = False) -> _Overload:
    return _Overload(params, body_values, returns, run, variadic)


_N, _S, _B = _T.NUMBER, _T.STRING, _T.BOOL
_FALSE = _o(None, _B, lambda _v: False, body_values=False)
_FUNCTIONS: dict[str, tuple[_Overload, ...]] = {
    "ABS": (_o((_N,), _N, _math(abs)),),
    "EXP": (_o((_N,), _N, _math(math.exp)),),
    "POWER": (_o((_N, _N), _N, _power),),
    "SQUARE": (_o((_N,), _N, _math(lambda x: x * x)),),
    "CEILING": (_o((_N,), _N, _math(_round(math.ceil))),),
    "FLOOR": (_o((_N,), _N, _math(_round(math.floor))),),
    "SIGN": (_o((_N,), _N, _math(lambda x: float((x > 0) - (x < 0)))),),
    "SQRT": (_o((_N,), _N, _math(math.sqrt)),),
    "AS_NUMBER": (_o((_S,), _N, _as_number), _o((_N,), _N, lambda v: v, body_values=False)),
    "IS_BOOL": (_o((_B,), _B, lambda v: UNDEFINED if v is UNDEFINED else isinstance(v, bool)), _FALSE),
    "IS_DEFINED": tuple(_o((t,), _B, lambda v: v is not UNDEFINED and not (isinstance(v, float) and math.isnan(v)),
                           body_values=False) for t in (_S, _N, _B, _T.UNDEFINED, _T.NULL, _T.ANY)),
    "IS_NULL": (_o((_S,), _B, lambda v: v is None, body_values=False),  # $body values: refused, see _Parser._call
                _o((_T.NULL,), _B, lambda _v: True, body_values=False), _FALSE),
    "IS_NUMBER": (_o((_N,), _B, lambda v: (n := _number(v)) is not None and math.isfinite(n)), _FALSE),
    "IS_STRING": (_o((_S,), _B, lambda v: isinstance(v, str)), _FALSE),
    "CONCAT": (_o((_S, _S, _S), _S, lambda *v: _concat(v), variadic=True),),
    "LENGTH": (_o((_S,), _N, _strings(lambda t: float(len(t)))),),
    "LOWER": (_o((_S,), _S, _strings(str.lower)),),
    "UPPER": (_o((_S,), _S, _strings(str.upper)),),
    "SUBSTRING": (_o((_S, _N), _S, _substring), _o((_S, _N, _N), _S, _substring)),
    "INDEX_OF": (_o((_S, _S), _N, _strings(lambda t, f: float(t.find(f)))),),
    "STARTS_WITH": (_o((_S, _S), _B, _strings(str.startswith)),),
    "ENDS_WITH": (_o((_S, _S), _B, _strings(str.endswith)),),
    "CONTAINS": (_o((_S, _S), _B, _strings(lambda t, f: f in t)),),
}
_NOT_IN_EDGEHUB = {
    "IS_ARRAY": "an array in $body is undefined to edgeHub; test an element instead, e.g. IS_DEFINED($body.predictions[0])",
    "IS_OBJECT": "an object in $body is undefined to edgeHub; test a member instead, e.g. IS_DEFINED($body.a.b)",
    "IS_PRIMITIVE": "use IS_DEFINED($body.x) AND NOT IS_NULL($body.x)",
    "TWIN_CHANGE_INCLUDES": "test the reported patch with $body instead, e.g. IS_DEFINED($body.settings)",
}


# -------------------------------------------------------------------------------------------- parser
_LEVELS: list[tuple[str, ...]] = [("??",), ("or",), ("and",), ("=", "!=", "<>"), ("<", "<=", ">", ">="),
                                  ("+", "-", "||"), ("*", "/", "%")]
_JSON_NAME = re.compile(r'[^()<>@,;:\\"/\[\]?={}.\t\n\r ]+')
_JSON_SEGMENT = re.compile(rf"({_JSON_NAME.pattern})(?:\[([0-9]+)\])?")
_SYSTEM_FALLBACK = {"outputName": lambda v: v.output, "connectionModuleId": lambda v: v.module}


def _body_path(path: str) -> list[tuple[str, int | None]]:
    segments = []
    for part in path.split("."):
        match = _JSON_SEGMENT.fullmatch(part)
        if not match:
            raise RouteError(f"$body.{path} is not a path edgeHub reads; write names joined by '.', each with at "
                             "most one array index, e.g. $body.predictions[0].tagName")
        segments.append((match.group(1), int(match.group(2)) if match.group(2) is not None else None))
    return segments


_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,7})?(?:Z|[+-]\d{2}(?::?\d{2})?)?")
_MS_DATE = re.compile(r"/Date\(-?\d+(?:[+-]\d{4})?\)/")


def _is_date(text: str) -> bool:
    """True for a string edgeHub's JSON reader (Json.NET) turns into a date, which a condition cannot read."""
    if _MS_DATE.fullmatch(text):
        return True
    match = _ISO_DATE.fullmatch(text)
    if not match:
        return False
    try:
        year, month, day, hour, minute, second = (int(g) for g in match.groups())
        datetime.datetime(year, month, day, hour, minute, second)
    except ValueError:
        return False
    return True


def _body_lookup(path: list[tuple[str, int | None]]) -> Callable[[Any], Any]:
    """The value at ``path`` in a JSON body as edgeHub reads it: undefined when the body is not a JSON object,
    null when nothing is at the path (a missing member or array element), undefined for an object, an array
    or a date string (Json.NET reads ISO 8601 date-times as dates), else the value."""
    def lookup(body: Any) -> Any:
        if not isinstance(body, dict):
            return UNDEFINED
        node: Any = body
        for key, index in path:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
            if index is not None:
                if not isinstance(node, list) or index >= len(node):
                    return None
                node = node[index]
        if isinstance(node, (dict, list)) or (isinstance(node, str) and _is_date(node)):
            return UNDEFINED
        return node
    return lookup


class _Parser:
    """edgeHub's condition grammar (Condition.g4) over tokens; builds typed closures over MessageView."""

    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0

    def _peek(self) -> _Token:
        return self.tokens[self.i] if self.i < len(self.tokens) else _Token("end", "", len(self.text), len(self.text))

    def _take(self) -> _Token:
        token = self._peek()
        self.i += 1
        return token

    def _expect(self, kind: str) -> _Token:
        if self._peek().kind != kind:
            raise self._error(f"expected {kind!r}")
        return self._take()

    def _error(self, what: str) -> RouteError:
        token = self._peek()
        if token.kind == "end":
            return _SyntaxError(f"the condition {self.text!r} ends where a value is expected" if what.startswith("unexpected")
                                else f"{what} at the end of the condition {self.text!r}")
        hint = ""
        if token.kind == "number" and token.text.startswith("-"):
            hint = " (write a space after '-' to subtract)"
        elif token.kind == "unknown":
            hint = " (a character edgeHub does not read here)"
        elif token.kind in ("select", "from", "where", "into"):
            hint = f" ({token.text.upper()} is a keyword; it cannot name a property)"
        return _SyntaxError(f"{what} {token.text!r} in the condition {self.text!r}{hint}")

    def _span(self, start: _Token) -> str:
        end = self.tokens[self.i - 1].end if self.i > 0 else start.end
        return self.text[start.start:end]

    def parse(self) -> Expr:
        try:
            node = self._binary(0)
        except RecursionError:
            raise RouteError(f"the condition {self.text!r} nests too deeply") from None
        if self._peek().kind != "end":
            raise self._error("unexpected")
        if node.type is _T.NULL:
            return lambda _v: False  # edgeHub converts null to false
        if node.type in (_T.STRING, _T.NUMBER):  # edgeHub accepts it and never delivers: surely a mistake
            example = f"{node.text} = 'Apple'" if node.type is _T.STRING else f"{node.text} > 0.5"
            raise RouteError(f"the condition {self.text!r} is {node.describe()}, not true or false; compare it, "
                             f"e.g. {example}")
        return node.fn

    def _binary(self, level: int) -> _Typed:
        if level == len(_LEVELS):
            return self._unary()
        start = self._peek()
        left = self._binary(level + 1)
        while self._peek().kind in _LEVELS[level]:
            op = self._take().kind
            right = self._binary(level + 1)
            left = self._combine(op, left, right, self._span(start))
        return left

    def _operand_error(self, op: str, needs: str, *operands: _Typed) -> RouteError:
        got = " and ".join(o.describe() for o in operands)
        names = [o.text for o in operands if o.type is _T.STRING and _PROPERTY_NAME.fullmatch(o.text)]
        others = {o.type for o in operands if o.text not in names}
        hint = ""
        if names and others & {_T.NUMBER, _T.BOOL}:
            hint = (f"; application properties are strings: compare {names[0]} with a string ('1'), "
                    f"or convert it with AS_NUMBER({names[0]})")
        elif names and others & {_T.NULL, _T.UNDEFINED}:
            hint = f"; a missing property is undefined: test it with NOT IS_DEFINED({names[0]})"
        elif names and needs != "strings":
            hint = f"; application properties are strings ({names[0]})"
        if any(o.text[:4].lower() == "not " for o in operands):
            hint += "; NOT applies to the value right after it: write NOT (...) around the comparison"
        return RouteError(f"{op.upper()} needs {needs}, not {got}, in the condition {self.text!r}{hint}")

    def _combine(self, op: str, left: _Typed, right: _Typed, text: str) -> _Typed:
        lf, rf = left.fn, right.fn
        types = (left.type, right.type)
        if op in ("*", "/", "%", "+", "-"):
            if not all(t in (_T.NUMBER, _T.ANY) for t in types):
                raise self._operand_error(op, "numbers", left, right)
            if op == "%" and _T.ANY in types:
                raise RouteError(f"edgeHub has no % for $body values ({text}); convert them first, "
                                 f"e.g. AS_NUMBER($body.x) % 2, in the condition {self.text!r}")
            kind = _T.ANY if _T.ANY in types else _T.NUMBER
            return _Typed(kind, lambda v: _arith(op, lf(v), rf(v)), text)
        if op == "||":
            if not all(t in (_T.STRING, _T.ANY) for t in types):
                raise self._operand_error(op, "strings", left, right)
            return _Typed(_T.STRING, lambda v: _concat((lf(v), rf(v))), text)
        if op in ("and", "or"):
            allowed = (_T.NULL, _T.BOOL, _T.UNDEFINED, _T.ANY)
            if not all(t in allowed for t in types):
                raise self._operand_error(op, "true/false values", left, right)
            if _T.ANY in types:  # edgeHub's $body logic: both sides must be true/false, else undefined
                body_logic = _and if op == "and" else _or

                def both(v: MessageView) -> Any:
                    a, b = lf(v), rf(v)
                    return body_logic(a, b) if isinstance(a, bool) and isinstance(b, bool) else UNDEFINED

                return _Typed(_T.BOOL, both, text)
            if op == "and" and _T.NULL in types:
                return _Typed(_T.NULL, lambda _v: None, text)
            if op == "or" and _T.NULL in types:
                if types == (_T.NULL, _T.NULL):
                    return _Typed(_T.NULL, lambda _v: None, text)
                other = rf if left.type is _T.NULL else lf
                return _Typed(_T.BOOL, other, text)
            logic = _and if op == "and" else _or
            return _Typed(_T.BOOL, lambda v: logic(lf(v), rf(v)), text)
        # comparison, equality and ??: both operands of one type, or a $body value and a supported type
        same = left.type == right.type or (_T.ANY in types and all(t in (*_SUPPORTED, _T.ANY) for t in types))
        if not same:
            raise self._operand_error(op, "two values of one type", left, right)
        kind = _T.ANY if _T.ANY in types else left.type
        if op == "??":
            def coalesce(v: MessageView) -> Any:
                value = lf(v)
                return rf(v) if value is UNDEFINED else value
            return _Typed(kind, coalesce, text)
        return _Typed(_T.BOOL, lambda v: _compare(op, kind, lf(v), rf(v)), text)

    def _unary(self) -> _Typed:
        start = self._peek()
        if start.kind == "-":
            self._take()
            inner = self._unary()
            if inner.type is _T.ANY:
                raise RouteError(f"edgeHub cannot negate a $body value ({self._span(start)}); write 0 - {inner.text}, "
                                 f"in the condition {self.text!r}")
            if inner.type is not _T.NUMBER:
                raise self._operand_error("-", "a number", inner)
            fn = inner.fn
            return _Typed(_T.NUMBER, lambda v: UNDEFINED if (x := _number(fn(v))) is None else -x, self._span(start))
        if start.kind == "not":
            self._take()
            inner = self._unary()
            fn = inner.fn
            if inner.type is _T.NULL:
                return _Typed(_T.BOOL, lambda _v: True, self._span(start))
            if inner.type not in (_T.BOOL, _T.ANY):
                raise RouteError(f"NOT needs true/false, not {inner.describe()}, in the condition {self.text!r}; "
                                 f"NOT applies to the value right after it: write NOT ({inner.text} ...)")
            return _Typed(_T.BOOL, lambda v: (not r) if isinstance(r := fn(v), bool) else UNDEFINED, self._span(start))
        return self._primary()

    def _primary(self) -> _Typed:
        token = self._take()
        kind, text = token.kind, token.text
        if kind == "(":
            inner = self._binary(0)
            if self._peek().kind != ")":
                raise self._error("expected ')' before") if self._peek().kind != "end" else _SyntaxError(
                    f"the condition {self.text!r} misses a closing ')'")
            self._take()
            return _Typed(inner.type, inner.fn, self._span(token))
        if kind == "string":
            value = _unescape(text[1:-1])
            return _Typed(_T.STRING, lambda _v: value, text)
        if kind in ("number", "hex"):
            number = float(int(text[2:], 16)) if kind == "hex" else float(text)
            return _Typed(_T.NUMBER, lambda _v: number, text)
        if kind in ("true", "false"):
            flag = kind == "true"
            return _Typed(_T.BOOL, lambda _v: flag, text)
        if kind == "null":
            return _Typed(_T.NULL, lambda _v: None, text)
        if kind == "undefined":
            return _Typed(_T.UNDEFINED, lambda _v: UNDEFINED, text)
        if kind == "sysprop":
            return self._system(text, escaped=False)
        if kind == "{":
            prop = self._expect("sysprop")
            self._expect("}")
            return self._system(prop.text, escaped=True, text=self._span(token))
        if kind == "id":
            if text[0] in "-+" and len(text) > 1:  # edgeHub reads -$body.x as a property named "-$body.x"
                raise RouteError(f"{text} in the condition {self.text!r} is read by edgeHub as one property name; "
                                 f"write a space after {text[0]!r} (e.g. 0 - $body.x)")
            if text.lower() in ("true", "false", "null") and text != text.lower():  # edgeHub: a property named TRUE
                raise RouteError(f"{text} in the condition {self.text!r} is read by edgeHub as a property name; "
                                 f"write {text.lower()} in lowercase")
            if text[0] in "'`":  # edgeHub would read 'it''s' as a property name; nobody means that
                raise RouteError(f"{text} in the condition {self.text!r} is not a string edgeHub reads; "
                                 "inside a string write \\' for ' (e.g. 'it\\'s')")
            if self._peek().kind == "(":
                return self._call(token)
            return _Typed(_T.STRING, lambda v: _get(v.properties, text), text)
        self.i -= 1
        raise self._error("unexpected")

    def _system(self, name: str, escaped: bool, text: str | None = None) -> _Typed:
        text = text or name
        if name.lower().startswith("$body."):
            lookup = _body_lookup(_body_path(name[len("$body."):]))
            if escaped or "[" in name or "]" in name:  # no application property has [ or ] in its name
                return _Typed(_T.ANY, lambda v: lookup(v.body), text)
            return _Typed(_T.ANY, lambda v: p if (p := _get(v.properties, name)) is not UNDEFINED else lookup(v.body), text)
        if "[" in name or "]" in name:
            return _Typed(_T.UNDEFINED, lambda _v: UNDEFINED, text)
        key = name[1:]
        fallback = _SYSTEM_FALLBACK.get(key)

        def system(v: MessageView) -> Any:
            value = _get(v.system, key)
            return fallback(v) if value is UNDEFINED and fallback is not None else value

        if escaped:
            return _Typed(_T.STRING, system, text)
        return _Typed(_T.STRING, lambda v: p if (p := _get(v.properties, name)) is not UNDEFINED else system(v), text)

    def _call(self, token: _Token) -> _Typed:
        name = token.text.upper()
        if name not in _FUNCTIONS:
            if name in _NOT_IN_EDGEHUB:
                raise RouteError(f"function {name} is not supported by edgeHub ({_NOT_IN_EDGEHUB[name]})")
            raise RouteError(f"function {name} is not supported by edgeHub; these are: {', '.join(_FUNCTIONS)}")
        self._expect("(")
        args: list[_Typed] = []
        if self._peek().kind != ")":
            args.append(self._binary(0))
            while self._peek().kind == ",":
                self._take()
                args.append(self._binary(0))
        if self._peek().kind != ")":
            raise self._error(f"expected ')' or ',' in {name}(...) before")
        self._take()
        text = self._span(token)
        if name == "IS_NULL" and len(args) == 1 and args[0].type is _T.ANY:
            raise RouteError(f"edgeHub's IS_NULL is true for any value present in $body ({text}); write "
                             f"{args[0].text} = null instead, in the condition {self.text!r}")
        overloads = _FUNCTIONS[name]
        overload = next((o for o in overloads if o.matches([a.type for a in args])), None)
        if overload is None:
            takes = " or ".join(f"({o.signature()})" for o in overloads if o.params is not None)
            got = ", ".join(a.describe() for a in args) or "nothing"
            raise RouteError(f"{name} takes {takes}, not {got}, in the condition {self.text!r}")
        fns = [a.fn for a in args]
        run = overload.run
        return _Typed(overload.returns, lambda v: run(*(f(v) for f in fns)), text)


# --------------------------------------------------------------------------------------------- routes
@dataclass(frozen=True)
class Route:
    """A parsed route. ``module`` / ``output`` None mean any; the sink is ``$upstream`` (``sink_module``
    None) or a module's input. ``priority``: 0 (highest) to 9, or :data:`DEFAULT_PRIORITY` when the route
    gives none. ``time_to_live_s``: seconds an upstream message may wait while IoT Hub is unreachable, None
    for the manifest-wide value. ``twin_changes``: the source is ``/twinChangeNotifications`` (modules'
    reported-property changes, not their messages)."""

    name: str
    text: str
    module: str | None
    output: str | None
    sink_module: str | None
    sink_input: str | None
    condition: Expr | None
    priority: int = DEFAULT_PRIORITY
    time_to_live_s: int | None = None
    twin_changes: bool = False
    source: str = "/messages/"

    @property
    def upstream(self) -> bool:
        return self.sink_module is None

    @property
    def takes_twin_changes(self) -> bool:
        """True when edgeHub routes twin change notifications through this route: ``/twinChangeNotifications``
        and also ``/*`` (its sources match by prefix)."""
        return self.twin_changes or self.source == "/"

    def delivers(self, view: MessageView, on_error: Callable[[Route, Exception], object] | None = None) -> bool:
        """True when a message from ``view.module``'s ``view.output`` goes through this route: its source
        matches (module and output names without regard to case, as edgeHub) and its condition is true.
        Never raises: a condition that cannot be evaluated on a message is not true. A condition that raises
        (a bug in this evaluator, not in the route) is not true either, and handed to ``on_error`` (the bus
        logs and counts it)."""
        if self.module is not None and self.module.lower() != view.module.lower():
            return False
        if self.output is not None and self.output.lower() != view.output.lower():
            return False
        if self.condition is None:
            return True
        try:
            return self.condition(view) is True
        except Exception as exc:  # noqa: BLE001 - a message must never crash routing; edgeHub treats it as undefined
            if on_error is not None:
                on_error(self, exc)
            return False


_SINK = re.compile(r"/?modules/(?P<module>[^/]+)/inputs/(?P<input>[^/]+)/?")  # edgeHub trims one / at each end
_SOURCES = ("/*, /messages/*, /messages/modules/*, /messages/modules/<module>/*, /messages/modules/<module>/outputs/*, "
            "/messages/modules/<module>/outputs/<output> or /twinChangeNotifications")


def _source(name: str, source: str) -> tuple[str, str | None, str | None, bool]:
    """(normalised source, module, output, twin changes) as edgeHub's CustomMessageSource reads it."""
    normal = source.strip().rstrip("*")
    normal = normal.rstrip("/") if len(normal) > 1 else normal
    if not normal.startswith("/"):
        raise RouteError(f"route {name!r}: source {source!r} is not a path; the sources are {_SOURCES}")
    parts = normal.split("/")[1:] if normal != "/" else []
    if not parts:
        return "/", None, None, False
    if len(parts) == 1 and parts[0].lower() == TWIN_CHANGES[1:].lower():
        return TWIN_CHANGES, None, None, True
    lowered = [p.lower() for p in parts]
    if lowered in (["messages"], ["messages", "modules"]):
        return normal, None, None, False
    if lowered[:2] == ["messages", "modules"] and len(parts) in (3, 4, 5) and (len(parts) == 3 or lowered[3] == "outputs"):
        return normal, parts[2], parts[4] if len(parts) == 5 else None, False
    raise RouteError(f"route {name!r}: source {source!r} is not /messages/modules/<module>/outputs/<output> "
                     f"(the sources are {_SOURCES})")


def _route_text(name: str, spec: str | Mapping[str, Any]) -> tuple[str, int, int | None]:
    if isinstance(spec, str):
        return spec, DEFAULT_PRIORITY, None
    if not isinstance(spec, Mapping):
        raise RouteError(f"route {name!r} is {type(spec).__name__}; write a string 'FROM ... INTO ...' or "
                         '{"route": "FROM ... INTO ...", "priority": 0, "timeToLiveSecs": 7200}')
    unknown = sorted(set(spec) - {"route", "priority", "timeToLiveSecs"})
    if unknown:
        raise RouteError(f"route {name!r}: {', '.join(map(repr, unknown))} is not a route setting "
                         "(a route object has route, priority and timeToLiveSecs)")
    text = spec.get("route")
    if not isinstance(text, str) or not text.strip():
        raise RouteError(f"route {name!r}: \"route\" must be the route text, e.g. \"FROM /messages/* INTO $upstream\"")
    priority = spec.get("priority", DEFAULT_PRIORITY)
    if "priority" in spec and (isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 9):
        raise RouteError(f"route {name!r}: priority {priority!r} is not a whole number from 0 (highest) to 9")
    ttl = spec.get("timeToLiveSecs", 0)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= MAX_TIME_TO_LIVE_S:
        raise RouteError(f"route {name!r}: timeToLiveSecs {ttl!r} is not a whole number of seconds from 0 to "
                         f"{MAX_TIME_TO_LIVE_S} (0: the storeAndForwardConfiguration value)")
    return text, priority, ttl or None


def parse_route(name: str, spec: str | Mapping[str, Any]) -> Route:
    """Parse one route: the string ``FROM <source> [WHERE <condition>] INTO <sink>`` or the object
    ``{"route": ..., "priority": 0-9, "timeToLiveSecs": N}``. Raises RouteError, one line naming the route."""
    text, priority, ttl = _route_text(name, spec)
    tokens = _lex(text)
    kinds = [t.kind for t in tokens]
    if "unterminated" in kinds:
        opened = tokens[kinds.index("unterminated")].text
        raise RouteError(f"route {name!r}: the string {opened!r} is not closed (inside a string write \\' for ', "
                         f"\\\" for \" and \\\\ for \\)")
    i = 2 if kinds[:2] == ["select", "*"] else 0
    if i >= len(tokens) or kinds[i] != "from":
        raise RouteError(f"route {name!r} is not 'FROM <source> [WHERE <condition>] INTO <sink>': {text!r}")
    i += 1
    source_start = i
    while i < len(tokens) and kinds[i] not in ("where", "into"):
        i += 1
    if source_start == i or "into" not in kinds[i:]:
        raise RouteError(f"route {name!r} is not 'FROM <source> [WHERE <condition>] INTO <sink>': {text!r}")
    source = "".join(t.text for t in tokens[source_start:i])  # as edgeHub's parser: tokens without spaces
    condition: Expr | None = None
    if kinds[i] == "where":
        into = kinds.index("into", i)
        if into == i + 1:
            raise RouteError(f"route {name!r}: WHERE has no condition; write a condition like tagName = 'Apple' "
                             "or leave WHERE out")
        where_text = text[tokens[i + 1].start:tokens[into - 1].end]
        shift = tokens[i + 1].start
        inner = [_Token(t.kind, t.text, t.start - shift, t.end - shift) for t in tokens[i + 1:into]]
        try:
            condition = _Parser(where_text, inner).parse()
        except _SyntaxError as exc:
            raise RouteError(f"route {name!r}: {exc}; write a condition like tagName = 'Apple' AND "
                             "$body.probability > 0.5") from None
        except RouteError as exc:
            raise RouteError(f"route {name!r}: {exc}") from None
        i = into
    sink_tokens = tokens[i + 1:]
    sink_text = text[sink_tokens[0].start:sink_tokens[-1].end] if sink_tokens else ""
    normal, module, output, twin = _source(name, source)
    sink_module = sink_input = None
    sink_kinds = [t.kind for t in sink_tokens]
    if sink_kinds == ["sysprop"] and sink_text.lower() == UPSTREAM:
        pass
    elif (sink_kinds == ["id", "(", "string", ")"] and sink_tokens[0].text.lower() == "brokeredendpoint"
          and (dst := _SINK.fullmatch(sink_tokens[2].text[1:-1].strip()))):
        sink_module, sink_input = dst["module"], dst["input"]
    else:
        raise RouteError(f'route {name!r}: sink {sink_text!r} is not $upstream or BrokeredEndpoint("/modules/<module>/inputs/<input>")')
    return Route(name, text, module, output, sink_module, sink_input, condition, priority=priority,
                 time_to_live_s=ttl, twin_changes=twin, source=normal)
