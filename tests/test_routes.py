"""Route parsing and WHERE conditions, as edgeHub evaluates them."""

from __future__ import annotations

import pytest

from localedge.runner.routes import UNDEFINED, MessageView, RouteError, parse_route


def view(properties: dict | None = None, body: object = UNDEFINED, module: str = "CameraCapture",
         output: str = "classification") -> MessageView:
    return MessageView(module, output, properties or {}, {"contentType": "application/json"}, body)


def test_source_and_sink_forms() -> None:
    r = parse_route("r", 'FROM /messages/modules/CameraCapture/outputs/classification INTO BrokeredEndpoint("/modules/TextToSpeech/inputs/classification")')
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
    ("condition", "properties", "body", "expected"),
    [
        ("IS_DEFINED(tagName)", {"tagName": "Apple"}, UNDEFINED, True),
        ("IS_DEFINED(tagName)", {}, UNDEFINED, False),
        ("tagName = 'Apple'", {"tagName": "Apple"}, UNDEFINED, True),
        ("tagName = 'Apple'", {"tagName": "Banana"}, UNDEFINED, False),
        ("tagName <> 'Apple'", {}, UNDEFINED, False),  # undefined compares to undefined: no delivery
        ("NOT (tagName = 'Apple')", {"tagName": "Banana"}, UNDEFINED, True),
        ("$body.probability > 0.9", {}, {"probability": 0.95}, True),
        ("$body.probability > 0.9 AND tagName = 'Apple'", {"tagName": "Apple"}, {"probability": 0.5}, False),
        ("$body.probability > 0.9 OR tagName = 'Apple'", {"tagName": "Apple"}, {"probability": 0.5}, True),
        ("$body.tagName = null", {}, {"tagName": None}, True),
        ("IS_DEFINED($body.missing.deep)", {}, {"missing": 1}, False),
        ("$contentType = 'application/json'", {}, UNDEFINED, True),
        ("LOWER(tagName) = 'apple'", {"tagName": "APPLE"}, UNDEFINED, True),
        ("STARTS_WITH(tagName, 'Ap')", {"tagName": "Apple"}, UNDEFINED, True),
        ("tagName = 'it''s'", {"tagName": "it's"}, UNDEFINED, True),
        ("schemaVersion = 1", {"schemaVersion": "1"}, UNDEFINED, False),  # properties are strings
    ],
)
def test_where_conditions(condition: str, properties: dict, body: object, expected: bool) -> None:
    route = parse_route("r", f"FROM /messages/modules/CameraCapture/outputs/classification WHERE {condition} INTO $upstream")
    assert route.delivers(view(properties, body)) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT * INTO $upstream", "is not 'FROM <source>"),
        ("FROM /messages/modules/A/outputs/o INTO somewhere", r"is not \$upstream or BrokeredEndpoint"),
        ("FROM /devices/x INTO $upstream", "is not /messages/modules"),
        ("FROM /messages/* WHERE tagName = INTO $upstream", "route 'bad': the condition 'tagName =' ends where a value is "
                                                            "expected; write a condition like tagName = 'Apple'"),
        ("FROM /messages/* WHERE tagName = 'a' 'b' INTO $upstream", "unexpected \"'b'\""),
        ("FROM /messages/* WHERE FOO(tagName) INTO $upstream", "FOO is not supported"),
    ],
)
def test_bad_routes_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(RouteError, match=message):
        parse_route("bad", text)
