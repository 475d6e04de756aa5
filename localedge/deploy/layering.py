"""Base and layered deployments, as IoT Hub's automatic deployments combine them, derived from one full manifest.

contract: docs/iotedge.md "Beyond one device", and Microsoft's "Understand IoT Edge automatic deployments
for single devices or at scale" and "Deploy and monitor IoT Edge modules at scale using the Azure CLI":

- A *base* (standard automatic) deployment holds the whole ``$edgeAgent`` / ``$edgeHub`` documents
  (runtime, registry credentials, system modules). A device gets the one base deployment of the highest
  priority that targets it; of equal priorities, the most recently created. Lower ones are not merged.
- A *layered* deployment names paths instead: ``$edgeAgent: {"properties.desired.modules.<Name>": {...}}``,
  ``$edgeHub: {"properties.desired.routes.<Name>": "..."}``, ``<Module>: {"properties.desired[.<key>...]": ...}``.
  Every layer that targets a device and has a higher priority than its base is applied on top of the base,
  in priority order, each path replacing what lower ones set there (``properties.desired`` alone replaces a
  module's whole desired properties). A layer always has a ``$edgeAgent`` object, even an empty one.
- Target conditions are Boolean conditions on ``tags.*``, ``deviceId`` (and ``properties.reported.*``);
  strings in single quotes ('' escapes one), no double quotes; values use letters, digits and ``-:.+%_#*?!(),=@;$``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DESIRED = "properties.desired"
SYSTEM_MODULES = ("$edgeAgent", "$edgeHub")


class ConditionError(ValueError):
    """A target condition IoT Hub would refuse; the message says where and what to write instead."""


# ---- splitting a full manifest into a base and a layer, and merging them back -------------------------------

def split(manifest: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(base, layer) of a full manifest: the base keeps the runtime, registry credentials, system modules and
    edgeHub settings with no module and no route; the layer holds every module, route and module twin in the
    layered form. ``merge(base, [layer])`` gives ``manifest`` back."""
    content = manifest["modulesContent"]
    agent = copy.deepcopy(content["$edgeAgent"][DESIRED])
    hub = copy.deepcopy(content["$edgeHub"][DESIRED])
    modules, routes = agent.pop("modules", {}) or {}, hub.pop("routes", {}) or {}
    base = {"modulesContent": {"$edgeAgent": {DESIRED: {**agent, "modules": {}}},
                               "$edgeHub": {DESIRED: {**hub, "routes": {}}}}}
    layer: dict[str, Any] = {
        "$edgeAgent": {f"{DESIRED}.modules.{name}": copy.deepcopy(spec) for name, spec in modules.items()},
        "$edgeHub": {f"{DESIRED}.routes.{name}": copy.deepcopy(route) for name, route in routes.items()},
    }
    for name, twin in content.items():
        if name not in SYSTEM_MODULES:
            layer[name] = copy.deepcopy(twin)
    return base, {"modulesContent": layer}


def _set(target: dict[str, Any], path: list[str], value: Any) -> None:
    for key in path[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    target[path[-1]] = copy.deepcopy(value)


def apply_layer(content: dict[str, Any], layer_content: Mapping[str, Any]) -> None:
    """Apply one layer's ``modulesContent`` to ``content`` (a full ``modulesContent``) in place: each
    ``properties.desired[.a.b]`` key replaces the value at that path of that module twin."""
    for module, paths in layer_content.items():
        twin = content.setdefault(module, {})
        for key, value in (paths or {}).items():
            if key != DESIRED and not key.startswith(DESIRED + "."):
                raise ValueError(f"{module}.{key}: a layered deployment names properties.desired paths")
            rest = key[len(DESIRED) + 1:].split(".") if key != DESIRED else []
            if not rest:
                twin[DESIRED] = copy.deepcopy(value)
            else:
                _set(twin.setdefault(DESIRED, {}), rest, value)


def merge(base: Mapping[str, Any], layers: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The full manifest a device gets from ``base`` with ``layers`` (lowest priority first) applied."""
    merged = copy.deepcopy(dict(base))
    for layer in layers:
        apply_layer(merged["modulesContent"], layer["modulesContent"])
    return merged


def layer_problems(layer: Mapping[str, Any], file: str) -> list[str]:
    """What makes ``layer`` not a layered deployment ``az iot edge deployment create --layered`` accepts."""
    content = layer.get("modulesContent")
    if not isinstance(content, dict) or not isinstance(content.get("$edgeAgent"), dict):
        return [f"{file}: modulesContent.$edgeAgent: a layered deployment needs a $edgeAgent object (even an empty one)"]
    problems = []
    allowed = {"$edgeAgent": re.compile(r"properties\.desired\.modules\.[^.$]+"),
               "$edgeHub": re.compile(r"properties\.desired\.routes\.[^.$]+")}
    for module, paths in content.items():
        pattern = allowed.get(module, re.compile(r"properties\.desired(\.[^.]+)*"))
        for key in (paths if isinstance(paths, dict) else {"": None}):
            if not pattern.fullmatch(key):
                problems.append(f"{file}: modulesContent.{module}.{key}: not a path a layered deployment may set "
                                f"(system modules and runtime settings belong in the base deployment)")
    return problems


# ---- target conditions ---------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)|(?P<op><>|!=|<=|>=|=|<|>)"
                    r"|(?P<paren>[()])|(?P<word>[A-Za-z_$][\w$]*(?:\.[\w$]+)*))")
_VALUE_CHARS = re.compile(r"[\w\-:.+%#*?!(),=@;$']*")
_FIELDS = re.compile(r"deviceId|tags\.[\w$]+(?:\.[\w$]+)*|properties\.reported\.[\w$]+(?:\.[\w$]+)*")


@dataclass(frozen=True)
class _Compare:
    field: str
    op: str
    value: str | float


@dataclass(frozen=True)
class _Bool:
    op: str  # AND, OR, NOT
    parts: tuple[Any, ...]


def _tokens(text: str) -> list[tuple[str, str]]:
    if '"' in text:
        raise ConditionError(f"target condition {text!r}: double quotes are not allowed; write values in single quotes")
    tokens, at = [], 0
    while at < len(text.rstrip()):
        match = _TOKEN.match(text, at)
        if not match:
            raise ConditionError(f"target condition {text!r}: cannot read {text[at:].strip()!r} (position {at}); "
                                 "write e.g. tags.environment='prod' AND tags.platform='arm32v7'")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        at = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.tokens, self.at = text, _tokens(text), 0

    def fail(self, wanted: str) -> ConditionError:
        got = self.tokens[self.at][1] if self.at < len(self.tokens) else "the end"
        return ConditionError(f"target condition {self.text!r}: expected {wanted}, found {got!r}")

    def peek_word(self, *words: str) -> bool:
        return self.at < len(self.tokens) and self.tokens[self.at][0] == "word" and self.tokens[self.at][1].upper() in words

    def parse(self) -> Any:
        if not self.tokens:
            raise ConditionError("target condition is empty; write e.g. tags.environment='prod'")
        node = self.disjunction()
        if self.at != len(self.tokens):
            raise self.fail("AND, OR or the end")
        return node

    def disjunction(self) -> Any:
        return self._chain("OR", self.conjunction)

    def conjunction(self) -> Any:
        return self._chain("AND", self.unary)

    def _chain(self, word: str, operand: Callable[[], Any]) -> Any:
        """``operand (word operand)*``: one operand as it is, more joined by ``word``."""
        parts = [operand()]
        while self.peek_word(word):
            self.at += 1
            parts.append(operand())
        return parts[0] if len(parts) == 1 else _Bool(word, tuple(parts))

    def unary(self) -> Any:
        if self.peek_word("NOT"):
            self.at += 1
            return _Bool("NOT", (self.unary(),))
        if self.at < len(self.tokens) and self.tokens[self.at] == ("paren", "("):
            self.at += 1
            node = self.disjunction()
            if self.at >= len(self.tokens) or self.tokens[self.at] != ("paren", ")"):
                raise self.fail("')'")
            self.at += 1
            return node
        return self.comparison()

    def comparison(self) -> _Compare:
        if self.at + 3 > len(self.tokens):
            raise self.fail("a comparison such as tags.environment='prod'")
        (kind, field), (op_kind, op), (value_kind, value) = self.tokens[self.at:self.at + 3]
        if kind != "word" or not _FIELDS.fullmatch(field):
            raise self.fail("tags.<name>, deviceId or properties.reported.<name>")
        if op_kind != "op":
            self.at += 1
            raise self.fail("a comparison operator (=, !=, <, >, <=, >=)")
        if value_kind not in ("string", "number"):
            self.at += 2
            raise self.fail("a value in single quotes or a number")
        if value_kind == "string" and not _VALUE_CHARS.fullmatch(value[1:-1]):
            raise ConditionError(f"target condition {self.text!r}: {value} has characters IoT Hub does not allow in a "
                                 "value; use letters, digits and -:.+%_#*?!(),=@;$")
        self.at += 3
        typed: str | float = value[1:-1].replace("''", "'") if value_kind == "string" else float(value)
        return _Compare(field, "!=" if op == "<>" else op, typed)


def parse_condition(text: str) -> Any:
    """The parsed condition; raises ConditionError with one line saying what is wrong."""
    return _Parser(text).parse()


def _lookup(twin: Mapping[str, Any], field: str) -> Any:
    node: Any = twin
    for key in (["deviceId"] if field == "deviceId" else field.split(".")):
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def _compare(actual: Any, op: str, value: str | float) -> bool:
    if isinstance(value, float) and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        left: Any = float(actual)
    elif isinstance(value, str) and isinstance(actual, str):
        left = actual
    else:
        return False  # missing or of another type: the comparison is undefined, so false (as IoT Hub's query)
    return {"=": left == value, "!=": left != value, "<": left < value, ">": left > value,
            "<=": left <= value, ">=": left >= value}[op]


def evaluate(node: Any, twin: Mapping[str, Any]) -> bool:
    if isinstance(node, _Compare):
        return _compare(_lookup(twin, node.field), node.op, node.value)
    if node.op == "NOT":
        return not evaluate(node.parts[0], twin)
    results = (evaluate(part, twin) for part in node.parts)
    return all(results) if node.op == "AND" else any(results)


def matches(condition: str, twin: Mapping[str, Any]) -> bool:
    """Whether a device twin (``{"deviceId": ..., "tags": {...}, "properties": {"reported": {...}}}``) is targeted."""
    return evaluate(parse_condition(condition), twin)


# ---- which deployments a device gets ------------------------------------------------------------------------

@dataclass(frozen=True)
class Deployment:
    """An automatic deployment as IoT Hub stores it; ``created`` orders deployments by creation time."""

    id: str
    content: Mapping[str, Any]
    target_condition: str
    priority: int
    layered: bool = False
    created: int = 0


@dataclass(frozen=True)
class Outcome:
    """What a device ends up with: the base applied, the layers applied (lowest first), the merged manifest."""

    base: Deployment | None
    layers: tuple[Deployment, ...]
    manifest: dict[str, Any] | None


def resolve(twin: Mapping[str, Any], deployments: Iterable[Deployment]) -> Outcome:
    """Apply IoT Hub's rules to one device: the highest-priority base that targets it (newest of equals), then
    every targeting layer of higher priority than that base, in priority order (newest last among equals)."""
    targeting = [d for d in deployments if matches(d.target_condition, twin)]
    bases = sorted((d for d in targeting if not d.layered), key=lambda d: (d.priority, d.created))
    if not bases:
        return Outcome(None, (), None)
    base = bases[-1]
    layers = tuple(sorted((d for d in targeting if d.layered and d.priority > base.priority),
                          key=lambda d: (d.priority, d.created)))
    return Outcome(base, layers, merge(base.content, (layer.content for layer in layers)))


# ---- what the layered production output adds: the metrics collector, and the deployment's custom metrics ----

COLLECTOR = "IoTEdgeMetricsCollector"
COLLECTOR_IMAGE = "mcr.microsoft.com/azureiotedge-metrics-collector:2.0.0"
COLLECTOR_SECRETS = "/run/secrets/metrics-collector"


def metrics_endpoints(modules: Mapping[str, Any]) -> list[str]:
    """edgeHub's and edgeAgent's metrics URLs, then ``http://<Module>:<METRICS_PORT>/metrics`` of each module
    (9600 unless its env says otherwise; none for METRICS_PORT 0)."""
    from localedge.deploy.checks import metrics_port

    urls = ["http://edgeHub:9600/metrics", "http://edgeAgent:9600/metrics"]
    return urls + [f"http://{name}:{port}/metrics" for name in modules if (port := metrics_port(modules, name)) != "0"]


def collector_module(modules: Mapping[str, Any], variables: Mapping[str, str], startup_order: int) -> dict[str, Any]:
    """Microsoft's metrics collector (2.0: Logs Ingestion with a Microsoft Entra identity, or IoT messages)
    scraping ``modules``, configured from ``.env``; an unset required variable stays ``$NAME`` (validation
    names it). Authentication: a certificate (``METRICS_COLLECTOR_CERTIFICATE``, a file on the device,
    mounted read-only) or a managed identity; a client secret is never written into a deployment."""
    target = variables.get("METRICS_COLLECTOR_UPLOAD_TARGET") or "AzureMonitor"
    env: dict[str, str] = {
        "ResourceId": "$METRICS_COLLECTOR_RESOURCE_ID",
        "UploadTarget": target,
        "MetricsEndpointsCSV": ",".join(metrics_endpoints(modules)),
        "ScrapeFrequencyInSecs": variables.get("METRICS_COLLECTOR_SCRAPE_S") or "300",
    }
    create_options: dict[str, Any] = {"HostConfig": {"LogConfig": {"Type": "json-file",
                                                                  "Config": {"max-size": "4m", "max-file": "7"}}}}
    if target.lower() == "azuremonitor":
        env |= {"DataCollectionEndpoint": "$METRICS_COLLECTOR_ENDPOINT",
                "DataCollectionRuleId": "$METRICS_COLLECTOR_RULE_ID",
                "DataCollectionStreamName": variables.get("METRICS_COLLECTOR_STREAM") or "Custom-IoTEdgeMetrics"}
        for name, key in (("METRICS_COLLECTOR_AZURE_DOMAIN", "AzureDomain"), ("AZURE_TENANT_ID", "AZURE_TENANT_ID"),
                          ("AZURE_CLIENT_ID", "AZURE_CLIENT_ID")):
            if variables.get(name):
                env[key] = f"${name}"
        certificate = variables.get("METRICS_COLLECTOR_CERTIFICATE", "")
        if certificate:
            folder, _, file = certificate.rpartition("/")
            env["AZURE_CLIENT_CERTIFICATE_PATH"] = f"{COLLECTOR_SECRETS}/{file}"
            create_options["HostConfig"]["Binds"] = [f"{folder or '.'}:{COLLECTOR_SECRETS}:ro"]
    return {"version": "2.0", "type": "docker", "status": "running", "restartPolicy": "always",
            "startupOrder": startup_order, "env": {key: {"value": value} for key, value in env.items()},
            "settings": {"image": COLLECTOR_IMAGE, "createOptions": create_options}}


def collector_problems(spec: Mapping[str, Any], file: str) -> list[str]:
    """The collector's values in the forms its documentation requires (a variable left unset is reported
    by the generator's own check of unresolved ``$NAME``)."""
    where = f"{file}: modulesContent.$edgeAgent.properties.desired.modules.{COLLECTOR}.env"
    env = {key: str(value.get("value", "")) for key, value in spec.get("env", {}).items()}
    rules = {
        "UploadTarget": (r"(?i)AzureMonitor|IotMessage", "AzureMonitor or IotMessage (METRICS_COLLECTOR_UPLOAD_TARGET)"),
        "ResourceId": (r"(?i)/subscriptions/[0-9a-f-]{36}/resourceGroups/[^/<>\s]+/providers/Microsoft\.(Devices/IotHubs|IoTCentral/IoTApps)"
                       r"/[^/<>\s]+",
                       "the IoT hub's ARM ID, /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Devices/"
                       "IotHubs/<hub> (az iot hub show --name <hub> --query id)"),
        "DataCollectionEndpoint": (r"https://[^/<>\s]+/?", "the DCR's or DCE's HTTPS logs-ingestion endpoint"),
        "DataCollectionRuleId": (r"dcr-[0-9a-fA-F]{32}", "the DCR's immutable ID, dcr-<32 hex digits>"),
        "ScrapeFrequencyInSecs": (r"[1-9][0-9]*", "a whole number of seconds, 1 or more"),
    }
    problems = []
    for key, (pattern, fix) in rules.items():
        value = env.get(key)
        if value is not None and not value.startswith("$") and not re.fullmatch(pattern, value):
            problems.append(f"{where}.{key}.value: {value!r} is not {fix}")
    return problems


def metric_queries(deployment_id: str, modules: Iterable[str], model_sha256: str) -> dict[str, dict[str, str]]:
    """The ``--metrics`` of ``az iot edge deployment create``: devices counted by their module twins' reported
    properties (queries over ``devices.modules``, one module twin each). ``model_sha256`` is the layer's desired
    ``modelSha256`` (the export zip's hash, which the classifier reports as ``model.exportSha256``) or the bundled
    model file's (reported as ``model.sha256``): a device serving it counts either way."""
    running = " AND ".join(f"properties.reported.modules.{name}.runtimeStatus = 'running'" for name in modules)
    return {"queries": {
        "modulesRunning": "SELECT deviceId FROM devices.modules WHERE moduleId = '$edgeAgent' AND "
                          f"configurations.[[{deployment_id}]].status = 'Applied' AND {running}",
        "modelServed": "SELECT deviceId FROM devices.modules WHERE moduleId = 'ImageClassifierService' AND "
                       f"(properties.reported.model.exportSha256 = '{model_sha256}' OR "
                       f"properties.reported.model.sha256 = '{model_sha256}')",
        "cameraErrors": "SELECT deviceId FROM devices.modules WHERE moduleId = 'CameraCapture' AND "
                        "properties.reported.capture.counters.errors > 0",
    }}


DEPLOYMENT_ID = re.compile(r"[a-z0-9\-:+%_#*?!(),=@;']{1,128}")
