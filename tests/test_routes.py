"""Routes as edgeHub reads and evaluates them: sources, sinks, WHERE conditions, priority and time-to-live.

The expectations follow edgeHub's route grammar and condition compiler (Azure/iotedge,
Microsoft.Azure.Devices.Routing.Core): properties are strings, $body values take any type, objects and
arrays in $body are undefined, and a route delivers only when its condition is true.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import read_jsonl
from edgekit import wire
from localedge.runner.bus import Bus, UpstreamSink
from localedge.runner.routes import DEFAULT_PRIORITY, UNDEFINED, MessageView, RouteError, parse_route

CAMERA = "FROM /messages/modules/CameraCapture/outputs/classification"
CLASSIFIER = "FROM /messages/modules/ImageClassifierService/outputs/*"

# CameraCapture's message on its output classification (docs/routes.md "The message"), as the bus decodes it
SCAN: dict[str, Any] = {
    "schemaVersion": 1, "tagName": "Apple", "probability": 0.99812345, "reason": "change",
    "predictions": [{"tagName": "Apple", "probability": 0.99812345, "tagId": "", "boundingBox": None},
                    {"tagName": "Banana", "probability": 0.00012345, "tagId": "", "boundingBox": None}],
    "captureTime": "2026-11-20T10:00:00.123456Z", "frameNumber": 42, "source": "/dev/video0",
}
EMPTIED: dict[str, Any] = {**SCAN, "tagName": None, "probability": 0, "predictions": []}


def view(properties: dict[str, str] | None = None, body: Any = UNDEFINED, module: str = "CameraCapture",
         output: str = "classification", **system: str) -> MessageView:
    """A message as the bus shows it to routes: system properties by edgeHub's names."""
    sys_props = {"contentType": "application/json", "contentEncoding": "utf-8", "connectionModuleId": module,
                 "connectionDeviceId": "localedge", "outputName": output, **system}
    return MessageView(module, output, properties or {}, sys_props, body)


def delivers(where: str, message: MessageView, source: str = CAMERA) -> bool:
    return parse_route("r", f"{source} WHERE {where} INTO $upstream").delivers(message)


def test_source_and_sink_forms() -> None:
    r = parse_route("r", f'{CAMERA} INTO BrokeredEndpoint("/modules/TextToSpeech/inputs/classification")')
    assert (r.module, r.output, r.sink_module, r.sink_input) == ("CameraCapture", "classification", "TextToSpeech", "classification")
    assert r.delivers(view()) and not r.delivers(view(output="other")) and not r.delivers(view(module="Other"))
    everything = parse_route("all", "FROM /messages/* INTO $upstream")
    assert everything.upstream and everything.delivers(view(module="Any", output="x"))
    any_output = parse_route("m", "FROM /messages/modules/CameraCapture/* INTO $upstream")
    assert any_output.delivers(view(output="x")) and not any_output.delivers(view(module="B"))
    outputs = parse_route("o", "FROM /messages/modules/CameraCapture/outputs/* INTO $upstream")
    assert outputs.output is None and outputs.delivers(view(output="classification"))
    assert not outputs.delivers(view(module="B"))


@pytest.mark.parametrize(
    ("source", "module", "output", "twin_changes", "takes_twin_changes"),
    [
        ("/*", None, None, False, True),  # edgeHub matches sources by prefix: /* takes twin changes too
        ("/messages/*", None, None, False, False),
        ("/messages/modules/*", None, None, False, False),
        ("/messages/modules/CameraCapture/*", "CameraCapture", None, False, False),
        ("/messages/modules/CameraCapture/outputs/*", "CameraCapture", None, False, False),
        ("/messages/modules/CameraCapture/outputs/classification", "CameraCapture", "classification", False, False),
        ("/twinChangeNotifications", None, None, True, True),
        ("/messages/modules/CameraCapture /outputs/ classification", "CameraCapture", "classification", False, False),
    ],
)
def test_every_documented_source(source: str, module: str | None, output: str | None, twin_changes: bool,
                                 takes_twin_changes: bool) -> None:
    route = parse_route("r", f"FROM {source} INTO $upstream")
    assert (route.module, route.output, route.twin_changes, route.takes_twin_changes) == (module, output, twin_changes,
                                                                                          takes_twin_changes)


@pytest.mark.parametrize(
    ("sink", "module", "input_name"),
    [("$upstream", None, None), ("$Upstream", None, None),
     ('BrokeredEndpoint("/modules/TextToSpeech/inputs/classification")', "TextToSpeech", "classification"),
     ("brokeredEndpoint('modules/TextToSpeech/inputs/classification/')", "TextToSpeech", "classification")],
)
def test_sink_forms_edgehub_accepts(sink: str, module: str | None, input_name: str | None) -> None:
    route = parse_route("r", f"{CAMERA} INTO {sink}")
    assert (route.sink_module, route.sink_input, route.upstream) == (module, input_name, module is None)


def test_source_names_match_without_regard_to_case_as_in_edgehub() -> None:
    route = parse_route("r", "FROM /messages/modules/cameracapture/outputs/Classification INTO $upstream")
    assert route.delivers(view()) and not route.delivers(view(module="CameraCaptures"))


def test_select_star_form_and_keywords_in_any_case() -> None:
    route = parse_route("r", "select * from /messages/modules/CameraCapture/outputs/* where tagName = 'Apple' into $upstream")
    assert route.upstream and route.delivers(view({"tagName": "Apple"})) and not route.delivers(view({"tagName": "Kiwi"}))


@pytest.mark.parametrize(
    ("condition", "properties", "body", "expected"),
    [
        # application properties (strings), as CameraCapture sets them
        ("IS_DEFINED(tagName)", {"tagName": "Apple"}, SCAN, True),
        ("IS_DEFINED(tagName)", {}, EMPTIED, False),
        ("tagName = 'Apple'", {"tagName": "Apple"}, SCAN, True),
        ("tagName = \"Apple\"", {"tagName": "Apple"}, SCAN, True),
        ("tagName = 'Apple'", {"tagName": "Banana"}, SCAN, False),
        ("tagName = 'apple'", {"tagName": "Apple"}, SCAN, False),  # strings compare ordinally
        ("NOT (tagName = 'Apple')", {"tagName": "Banana"}, SCAN, True),
        ("tagName = 'it\\'s'", {"tagName": "it's"}, SCAN, True),
        ("schemaVersion = '1'", {"schemaVersion": "1"}, SCAN, True),
        ("AS_NUMBER(schemaVersion) >= 1", {"schemaVersion": "1"}, SCAN, True),
        ("LOWER(tagName) = 'apple'", {"tagName": "APPLE"}, SCAN, True),
        ("STARTS_WITH(tagName, 'Ap') AND ENDS_WITH(tagName, 'le')", {"tagName": "Apple"}, SCAN, True),
        # $body: JSON paths with array indexes
        ("$body.probability > 0.9", {}, SCAN, True),
        ("$body.predictions[0].tagName = 'Apple'", {}, SCAN, True),
        ("$body.predictions[1].tagName = 'Apple'", {}, SCAN, False),
        ("$body.predictions[0].probability > 0.6", {}, SCAN, True),
        # nothing at a $body path is null to edgeHub, and null sorts above numbers; IS_NUMBER guards
        ("$body.predictions[0].probability > 0.6", {}, EMPTIED, True),
        ("IS_NUMBER($body.predictions[0].probability) AND $body.predictions[0].probability > 0.6", {}, EMPTIED, False),
        ("IS_NUMBER($body.predictions[0].probability) AND $body.predictions[0].probability > 0.6", {}, SCAN, True),
        ("$body.predictions[0].tagName = null", {}, EMPTIED, True),
        ("$body.predictions[1].probability < 0.01 AND $body.frameNumber = 42", {}, SCAN, True),
        ("$body.predictions[0].boundingBox = null", {}, SCAN, True),
        ("$body.tagName = null", {}, EMPTIED, True),
        ("IS_DEFINED($body.predictions[0])", {}, SCAN, False),  # an object or array in $body is undefined to edgeHub
        ("IS_DEFINED($body.predictions[0].tagId)", {}, SCAN, True),
        ("IS_STRING($body.source) AND IS_NUMBER($body.frameNumber) AND NOT IS_BOOL($body.frameNumber)", {}, SCAN, True),
        ("IS_DEFINED($body.missing.deep) AND $body.missing.deep = null", {}, SCAN, True),
        ("IS_NULL(missingProperty) OR IS_NULL(null)", {}, SCAN, True),
        ("IS_DEFINED($body.captureTime)", {}, SCAN, False),  # an ISO 8601 date-time: a date to edgeHub's JSON reader
        ("$body.captureTime = '2026-11-20'", {}, {"captureTime": "2026-11-20"}, True),  # a date alone stays a string
        ("$body.probability > 0.9 AND tagName = 'Apple'", {"tagName": "Apple"}, {"probability": 0.5}, False),
        ("$body.probability > 0.9 OR tagName = 'Apple'", {"tagName": "Apple"}, {"probability": 0.5}, True),
        ("$body.frameNumber = 42", {}, {"frameNumber": "42"}, False),  # a $body string is not the number 42
        ("$body.tagName = 'Apple'", {}, UNDEFINED, False),  # not JSON: the body is undefined
        ("CONTAINS($body.source, 'video')", {}, SCAN, True),
        ("SUBSTRING($body.source, 0, 4) = '/dev' AND SUBSTRING($body.source, 5) = 'video0'", {}, SCAN, True),
        ("INDEX_OF($body.source, 'video') = 5", {}, SCAN, True),
        ("LENGTH($body.tagName) = 5", {}, SCAN, True),
        ("CONCAT($body.tagName, '-', tagName) = 'Apple-Apple'", {"tagName": "Apple"}, SCAN, True),
        ("$body.tagName || '!' = 'Apple!'", {}, SCAN, True),
        ("UPPER($body.reason) = 'CHANGE'", {}, SCAN, True),
        # arithmetic and math functions
        ("ABS($body.probability - 1) < 0.01", {}, SCAN, True),
        ("ABS($body.delta) > 0.5", {}, {"delta": -0.7}, True),
        ("$body.frameNumber * 2 + 1 = 85", {}, SCAN, True),
        ("AS_NUMBER($body.frameNumber) % 2 = 0", {}, SCAN, True),
        ("POWER(2, 3) = 8 AND SQUARE(3) = 9 AND SQRT(16) = 4 AND EXP(0) = 1", {}, SCAN, True),
        ("FLOOR($body.probability * 10) = 9 AND CEILING($body.probability) = 1", {}, SCAN, True),
        ("SIGN($body.delta) = -1", {}, {"delta": -0.7}, True),
        ("- 1 < 0 AND 7 / 2 = 3.5 AND 0x10 = 16 AND 1e2 = 100", {}, SCAN, True),
        ("$body.probability ?? 0 > 0.5", {}, SCAN, False),  # ?? binds last: x ?? (0 > 0.5) is not true/false
        ("($body.probability ?? 0) > 0.5", {}, SCAN, True),
        ("($body.missing ?? 0.7) > 0.5", {}, SCAN, True),
        # a $body value against another type: ordered by type (boolean < number < string < null), as edgeHub
        ("$body.reason > 0.6", {}, SCAN, True),
    ],
)
def test_where_conditions(condition: str, properties: dict[str, str], body: Any, expected: bool) -> None:
    assert delivers(condition, view(properties, body)) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("missingProperty = 'Apple'", False),  # undefined: not delivered
        ("missingProperty <> 'Apple'", False),
        ("NOT (missingProperty = 'Apple')", False),  # NOT undefined is undefined
        ("missingProperty = 'Apple' OR true", True),  # true OR undefined is true
        ("missingProperty = 'Apple' AND true", False),
        ("NOT (missingProperty = 'Apple' AND false)", True),  # false AND undefined is false
        ("$body.predictions > 0.5", False),  # an array in $body is undefined
        ("$body.predictions[0] = null OR $body.predictions[0] <> null", False),  # so is an object
        ("$body.missing = null", True),  # but nothing at a $body path is null
        ("$body.missing > 0.5", True),  # and null sorts above numbers, as in edgeHub
        ("NOT IS_DEFINED(missingProperty)", True),
        ("IS_DEFINED(undefined)", False),
        ("LENGTH(missingProperty) = 0", False),
        ("ABS($body.reason) >= 0", False),  # a function given the wrong type at run time: undefined
        ("1 / 0 > 1000", True),  # edgeHub's doubles: infinity
        ("0 / 0 = 0 OR 0 / 0 <> 0", False),  # NaN is undefined
    ],
)
def test_undefined_semantics(condition: str, expected: bool) -> None:
    assert delivers(condition, view({"tagName": "Apple"}, SCAN)) is expected


@pytest.mark.parametrize(
    ("condition", "message", "expected"),
    [
        ("$outputName = 'classification'", view(), True),
        ("$outputName = 'classification'", view(output="heartbeat"), False),
        ("$connectionModuleId = 'CameraCapture'", view(), True),
        ("$connectionModuleId = 'CameraCapture'", view(module="ImageClassifierService"), False),
        ("$connectionDeviceId = 'localedge'", view(), True),
        ("$contentType = 'application/json' AND $contentEncoding = 'utf-8'", view(), True),
        ("$messageId = 'm-1' AND $correlationId = 'c-1' AND $userId = 'u'", view(messageId="m-1", correlationId="c-1", userId="u"), True),
        ("IS_DEFINED($messageId)", view(), False),
        ("$contentType = 'text/plain'", view({"$contentType": "text/plain"}), True),  # an application property $x wins
        ("{$contentType} = 'application/json'", view({"$contentType": "text/plain"}), True),  # {$x}: the system one
    ],
)
def test_system_properties(condition: str, message: MessageView, expected: bool) -> None:
    assert delivers(condition, message) is expected


def test_output_name_falls_back_to_the_output_when_the_transport_gives_no_system_property() -> None:
    message = MessageView("CameraCapture", "classification", {}, {}, UNDEFINED)
    assert delivers("$outputName = 'classification' AND $connectionModuleId = 'CameraCapture'", message)


def test_a_classifier_route_as_users_write_it() -> None:
    route = parse_route("HighConfidence", f"{CLASSIFIER} WHERE $body.predictions[0].probability > 0.6 INTO $upstream")
    body: dict[str, Any] = {"id": "", "project": "", "iteration": "", "created": "2026-11-20T10:00:00Z",
            "predictions": [{"probability": 0.91, "tagId": "", "tagName": "Banana", "boundingBox": None}]}
    assert route.delivers(view(body=body, module="ImageClassifierService", output="predictions"))
    body["predictions"][0]["probability"] = 0.4
    assert not route.delivers(view(body=body, module="ImageClassifierService", output="predictions"))
    assert not route.delivers(view(body=body))  # another module
    body["predictions"] = []  # no prediction: null to edgeHub, which sorts above numbers, so it goes upstream too
    assert route.delivers(view(body=body, module="ImageClassifierService", output="predictions"))
    guarded = parse_route("Guarded", f"{CLASSIFIER} WHERE IS_NUMBER($body.predictions[0].probability) AND "
                                     "$body.predictions[0].probability > 0.6 INTO $upstream")
    assert not guarded.delivers(view(body=body, module="ImageClassifierService", output="predictions"))


@pytest.mark.parametrize(
    ("body", "expected"),
    [({"probability": 10**400}, True),  # beyond a double: infinity
     ({"probability": -0.7}, True), ({"probability": "0.9"}, False), ({"probability": [1, 2]}, False),
     ({"probability": {"a": 1}}, False), ({"a": [0, 1, 2, {"b": "x"}]}, True), ({"a": {"3": {"b": "x"}}}, False),
     ([1, 2], False), ("text", False), (7, False), (None, False), (json.loads("[" * 500 + "]" * 500), False)],
)
def test_no_message_body_makes_a_condition_fail(body: Any, expected: bool) -> None:
    route = parse_route("r", f"{CAMERA} WHERE ABS($body.probability) > 0.5 OR $body.a[3].b = 'x' OR LENGTH($body.p) = 1 "
                             "INTO $upstream")
    assert route.condition is not None
    assert (route.condition(view(body=body)) is True) is expected  # evaluated directly: it does not raise
    assert route.delivers(view(body=body)) is expected


@pytest.mark.parametrize(
    ("spec", "priority", "ttl"),
    [
        (f"{CAMERA} INTO $upstream", DEFAULT_PRIORITY, None),  # a string route: below every 0-9, the manifest's TTL
        ({"route": f"{CAMERA} INTO $upstream"}, DEFAULT_PRIORITY, None),
        ({"route": f"{CAMERA} INTO $upstream", "priority": 0, "timeToLiveSecs": 7200}, 0, 7200),
        ({"route": f"{CAMERA} INTO $upstream", "priority": 9, "timeToLiveSecs": 60}, 9, 60),
        ({"route": f"{CAMERA} INTO $upstream", "timeToLiveSecs": 0}, DEFAULT_PRIORITY, None),  # 0: the manifest's
    ],
)
def test_priority_and_time_to_live(spec: Any, priority: int, ttl: int | None) -> None:
    route = parse_route("r", spec)
    assert (route.priority, route.time_to_live_s) == (priority, ttl) and route.module == "CameraCapture"


def test_stored_messages_are_delivered_priority_0_first_and_those_of_routes_without_one_last(tmp_path: Path) -> None:
    """The bus as edgeHub: $upstream offline, a message on each of three routes (no priority, 9, 0), sent in that
    order; back online, they go upstream as edgeHub delivers: priority 0, then 9, then the route without one."""
    routes = [parse_route("plain", "FROM /messages/modules/A/outputs/plain INTO $upstream"),
              parse_route("low", {"route": "FROM /messages/modules/A/outputs/low INTO $upstream", "priority": 9}),
              parse_route("high", {"route": "FROM /messages/modules/A/outputs/high INTO $upstream", "priority": 0})]
    upstream = tmp_path / "upstream.jsonl"
    bus = Bus(routes, {}, UpstreamSink(upstream, io.StringIO()))
    bus.start()
    try:
        bus.set_upstream_online(False)
        for output in ("plain", "low", "high"):
            bus.handle("A", {"op": "send", "output": output, "properties": {}, "contentType": "application/json",
                             "contentEncoding": "utf-8", "body": wire.encode_body(json.dumps({"n": output}).encode())})
        assert bus.counters().upstream_queued == 3 and not upstream.exists()
        assert bus.set_upstream_online(True) == 3
        assert [m["output"] for m in read_jsonl(upstream)] == ["high", "low", "plain"]
    finally:
        bus.close()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("SELECT * INTO $upstream", "is not 'FROM <source>"),
        ("FROM /messages/modules/A/outputs/o INTO somewhere", r"is not \$upstream or BrokeredEndpoint"),
        ('FROM /messages/* INTO BrokeredEndpoint("/modules/A/outputs/o")', r"is not \$upstream or BrokeredEndpoint"),
        ("FROM /devices/x INTO $upstream", "is not /messages/modules"),
        ("FROM messages INTO $upstream", "source 'messages' is not a path; the sources are /\\*, /messages/\\*"),
        ("FROM /messages/* WHERE tagName = INTO $upstream", "route 'bad': the condition 'tagName =' ends where a value is "
                                                            "expected; write a condition like tagName = 'Apple'"),
        ("FROM /messages/* WHERE tagName = 'a' 'b' INTO $upstream", "unexpected \"'b'\""),
        ("FROM /messages/* WHERE tagName = 'a INTO $upstream", "the string \"'a INTO \\$upstream\" is not closed"),
        ("FROM /messages/* WHERE (tagName = 'a' INTO $upstream", "misses a closing '\\)'"),
        ("FROM /messages/* WHERE tagName ~ 'a' INTO $upstream", "unexpected '~'"),
        ("FROM /messages/* WHERE INTO $upstream", "WHERE has no condition"),
        ("FROM /messages/* WHERE FOO(tagName) INTO $upstream", "route 'bad': function FOO is not supported by edgeHub; "
                                                               "these are: ABS, EXP"),
        ("FROM /messages/* WHERE IS_ARRAY($body.predictions) INTO $upstream", "function IS_ARRAY is not supported by edgeHub"),
        ("FROM /messages/* WHERE IS_NULL($body.tagName) INTO $upstream", "write \\$body.tagName = null instead"),
        ("FROM /messages/* WHERE schemaVersion = 1 INTO $upstream",
         "= needs two values of one type, not a string, an application property \\(schemaVersion\\) and a number \\(1\\).*"
         "compare schemaVersion with a string"),
        ("FROM /messages/* WHERE tagName = null INTO $upstream", "test it with NOT IS_DEFINED\\(tagName\\)"),
        ("FROM /messages/* WHERE tagName + 1 > 2 INTO $upstream", "\\+ needs numbers"),
        ("FROM /messages/* WHERE NOT tagName = 'Apple' INTO $upstream", "NOT needs true/false.*write NOT \\(tagName"),
        ("FROM /messages/* WHERE tagName INTO $upstream", "is a string, an application property \\(tagName\\), not true or false"),
        ("FROM /messages/* WHERE ABS(tagName) > 1 INTO $upstream", "ABS takes \\(a number\\), not a string"),
        ("FROM /messages/* WHERE SUBSTRING($body.a) = 'x' INTO $upstream", "SUBSTRING takes \\(a string, a number\\) or"),
        ("FROM /messages/* WHERE $body.probability -0.5 > 0 INTO $upstream", "write a space after '-' to subtract"),
        ("FROM /messages/* WHERE $body.a[0][1] = 1 INTO $upstream", "one array index"),
        ("FROM /messages/* WHERE $body.n % 2 = 0 INTO $upstream", "AS_NUMBER\\(\\$body.x\\) % 2"),
        ("FROM /messages/* WHERE tagName = 'it''s' INTO $upstream", "write \\\\' for '"),
        ("FROM /messages/* WHERE from = 'x' INTO $upstream", "FROM is a keyword"),
        ("FROM /messages/* WHERE $body.flag = TRUE INTO $upstream", "write true in lowercase"),
        ("FROM /messages/* WHERE NOT $body.probability > 0.5 INTO $upstream", "write NOT \\(...\\) around the comparison"),
        ("FROM /messages/* WHERE -$body.probability < 0 INTO $upstream", "write a space after '-'"),
        ({"route": "FROM /messages/* INTO $upstream", "priority": 10}, "priority 10 is not a whole number from 0 \\(highest\\) to 9"),
        ({"route": "FROM /messages/* INTO $upstream", "priority": "1"}, "priority '1' is not a whole number"),
        ({"route": "FROM /messages/* INTO $upstream", "timeToLiveSecs": -1}, "timeToLiveSecs -1 is not a whole number"),
        ({"route": "FROM /messages/* INTO $upstream", "timeToLiveSecs": True}, "timeToLiveSecs True is not a whole number"),
        ({"route": "FROM /messages/* INTO $upstream", "ttl": 5}, "'ttl' is not a route setting"),
        ({"priority": 1}, "\"route\" must be the route text"),
    ],
)
def test_bad_routes_say_what_is_wrong(spec: Any, message: str) -> None:
    with pytest.raises(RouteError, match=message) as caught:
        parse_route("bad", spec)
    assert str(caught.value).startswith("route 'bad'") and "\n" not in str(caught.value)


def test_a_condition_that_raises_is_logged_once_counted_and_not_delivered(tmp_path: Path,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    """An evaluator bug (a condition that raises) loses no routing: that route takes the message as not
    matched, the other routes go on, the failure is logged once with its traceback and counted in ``list``."""
    import dataclasses
    import logging

    from localedge.runner.commands import format_list

    def broken(_: MessageView) -> bool:
        raise ZeroDivisionError("evaluator bug")

    faulty = dataclasses.replace(parse_route("faulty", "FROM /messages/* WHERE $body.n = 1 INTO $upstream"),
                                 condition=broken)  # type: ignore[arg-type]
    fine = parse_route("fine", "FROM /messages/* INTO $upstream")
    bus = Bus([faulty, fine], {}, UpstreamSink(tmp_path / "up.jsonl", io.StringIO()))
    caplog.set_level(logging.INFO, "localedge")
    for n in range(3):
        bus.route("A", {"output": "out", "body": wire.encode_body(json.dumps({"n": n}).encode()),
                        "contentType": "application/json", "contentEncoding": "utf-8"})
    bus.close()
    assert [m["body"]["n"] for m in read_jsonl(tmp_path / "up.jsonl")] == [0, 1, 2]  # once each, by "fine"
    failures = [r for r in caplog.records if "route faulty: evaluating its condition" in r.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info is not None and failures[0].exc_info[0] is ZeroDivisionError
    counters = bus.counters()
    assert counters.condition_errors == 3 and counters.routed == 3
    assert "3 routed, 0 unrouted (dropped), 3 failed a route's condition" in format_list(
        {"modules": [], "counters": counters._asdict()})
