"""Unit tests of the socket protocol: parsing client frames, server frames, close codes, wire bytes."""

from __future__ import annotations

import json
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from realtime import protocol
from realtime.frames import Frame, encode_text_frame
from realtime.protocol import ClientMessage, CloseCode, ErrorCode, ProtocolError


def parse_error(text: str | bytes) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        protocol.parse(text)
    return caught.value


# -- parse: valid frames -------------------------------------------------------------------------

def test_parse_ping_with_timestamp() -> None:
    """A ping keeps its timestamp (echoed in the pong) and gets empty data."""
    msg = protocol.parse('{"type":"ping","timestamp":1700000000123}')
    assert msg == ClientMessage(type="ping", data={}, ref=None, timestamp=1700000000123)


def test_parse_subscribe_with_data() -> None:
    """A subscribe frame keeps its data object as is."""
    msg = protocol.parse('{"type":"subscribe","data":{"since":7,"epoch":"ab12"}}')
    assert msg == ClientMessage(type="subscribe", data={"since": 7, "epoch": "ab12"})


@pytest.mark.parametrize("kind", protocol.COMMANDS)
def test_parse_every_command(kind: str) -> None:
    """Every command type parses with its data, its string id and no timestamp."""
    msg = protocol.parse(json.dumps({"type": kind, "id": "req-1", "data": {"scores": {"a": 1}}}))
    assert msg == ClientMessage(type=kind, data={"scores": {"a": 1}}, ref="req-1", timestamp=None)


def test_parse_integer_id() -> None:
    """An integer id is kept as an integer."""
    assert protocol.parse('{"type":"pong","id":42}').ref == 42


def test_parse_id_of_64_characters() -> None:
    """A string id of exactly 64 characters is the longest accepted."""
    assert protocol.parse(json.dumps({"type": "pong", "id": "x" * 64})).ref == "x" * 64


def test_parse_null_data_is_empty() -> None:
    """`"data": null` reads as an empty object."""
    assert protocol.parse('{"type":"ping","data":null}').data == {}


def test_parse_bytes() -> None:
    """A binary frame of UTF-8 JSON parses like text."""
    assert protocol.parse(b'{"type":"ping"}') == ClientMessage(type="ping", data={})


# -- parse: refused frames -----------------------------------------------------------------------

@pytest.mark.parametrize("text", ["garbage", "", "{", '{"type":"ping"', b"\xff\xfe\x00{", b"\xc3\x28"])
def test_parse_invalid_json(text: str | bytes) -> None:
    """Text that is not JSON, or bytes that are not UTF-8, is invalid_json."""
    error = parse_error(text)
    assert (error.code, error.message) == (ErrorCode.INVALID_JSON, "frames must be JSON")


@pytest.mark.parametrize("text", ['["ping"]', '"ping"', "42", "null", "true"])
def test_parse_non_object(text: str) -> None:
    """A JSON value other than an object is invalid_schema."""
    error = parse_error(text)
    assert (error.code, error.message) == (ErrorCode.INVALID_SCHEMA, "a frame is a JSON object with a type")


@pytest.mark.parametrize("text", ["{}", '{"data":{}}', '{"type":5}', '{"type":null}', '{"type":["ping"]}'])
def test_parse_missing_or_non_string_type(text: str) -> None:
    """A frame without a string type is invalid_schema."""
    error = parse_error(text)
    assert (error.code, error.message) == (ErrorCode.INVALID_SCHEMA, "a frame needs a string 'type'")


@pytest.mark.parametrize("data", ["[]", '"x"', "3", "true"])
def test_parse_data_not_object(data: str) -> None:
    """`data` other than an object (or null) is invalid_schema."""
    error = parse_error('{"type":"ping","data":%s}' % data)
    assert (error.code, error.message) == (ErrorCode.INVALID_SCHEMA, "'data' must be an object")


@pytest.mark.parametrize("ref", ["true", "false", '"%s"' % ("x" * 65), "1.5", "1.0", "[1]", '{"a":1}'])
def test_parse_bad_id(ref: str) -> None:
    """An id that is a bool, a float, a string over 64 characters or a container is invalid_schema."""
    error = parse_error('{"type":"ping","id":%s}' % ref)
    assert (error.code, error.message) == (
        ErrorCode.INVALID_SCHEMA, "'id' must be a string (up to 64) or an integer")


def test_parse_unsupported_type() -> None:
    """An unknown type is unsupported_message_type, naming the type."""
    error = parse_error('{"type":"launch_missiles"}')
    assert (error.code, error.message) == (ErrorCode.UNSUPPORTED_MESSAGE_TYPE,
                                           "unknown message type 'launch_missiles'")


def test_parse_unsupported_type_is_truncated() -> None:
    """The error message quotes at most 40 characters of an unknown type."""
    error = parse_error(json.dumps({"type": "z" * 500}))
    assert error.code == ErrorCode.UNSUPPORTED_MESSAGE_TYPE
    assert error.message == f"unknown message type {'z' * 40!r}"


def test_parse_checks_type_before_data() -> None:
    """An unknown type is reported even when its data is malformed too."""
    assert parse_error('{"type":"nope","data":[]}').code == ErrorCode.UNSUPPORTED_MESSAGE_TYPE


# -- server frames -------------------------------------------------------------------------------

def test_frame_without_data() -> None:
    """A frame without data carries an empty data object, compactly encoded."""
    assert protocol.frame("pong") == '{"type":"pong","data":{}}'


def test_frame_with_fields() -> None:
    """Extra fields sit between type and data."""
    text = protocol.frame("score_updated", {"scores": {"a": 1}}, seq=3, ts=1000)
    assert text == '{"type":"score_updated","seq":3,"ts":1000,"data":{"scores":{"a":1}}}'


def test_error_frame_without_ref() -> None:
    """An error frame has type, code and message, and no id when the client sent none."""
    text = protocol.error_frame(ErrorCode.INVALID_JSON, "frames must be JSON")
    assert json.loads(text) == {"type": "error", "code": "invalid_json", "message": "frames must be JSON"}
    assert text == '{"type":"error","code":"invalid_json","message":"frames must be JSON"}'


def test_error_frame_with_ref_and_details() -> None:
    """An error frame echoes the client's id and carries extra details."""
    text = protocol.error_frame("invalid_state", "no", ref=7, state="live")
    assert json.loads(text) == {"type": "error", "code": "invalid_state", "message": "no",
                                "state": "live", "id": 7}


def test_error_frame_with_zero_ref() -> None:
    """An id of 0 is still echoed."""
    assert json.loads(protocol.error_frame("x", "y", ref=0))["id"] == 0


# -- close codes ---------------------------------------------------------------------------------

def test_close_codes_are_unique() -> None:
    """No two close codes share a value (an IntEnum would silently make an alias)."""
    assert len(CloseCode.__members__) == len({c.value for c in CloseCode}) == len(list(CloseCode))


def test_application_close_codes_are_in_the_private_range() -> None:
    """Every 4xxx code lies within 4000-4999, the rest are the standard 1000, 1001, 1002 and 1011."""
    custom = [c for c in CloseCode if c >= 4000]
    assert all(4000 <= c <= 4999 for c in custom)
    assert sorted(c for c in CloseCode if c < 4000) == [1000, 1001, 1002, 1011]


def test_close_codes_say_whether_to_reconnect() -> None:
    """Below 4500 a client reconnects by itself; 4500 and up it cannot succeed as it is."""
    assert {c for c in CloseCode if not c.reconnect} == {
        CloseCode.BAD_REQUEST, CloseCode.AUTH_REQUIRED, CloseCode.TOKEN_EXPIRED, CloseCode.INVALID_TOKEN,
        CloseCode.NOT_FOUND, CloseCode.ORIGIN_NOT_ALLOWED}


def test_close_code_values() -> None:
    """The documented values clients switch on."""
    assert (CloseCode.GOING_AWAY, CloseCode.HEARTBEAT_TIMEOUT, CloseCode.SLOW_CONSUMER,
            CloseCode.RATE_LIMITED) == (1001, 4005, 4009, 4029)
    assert (CloseCode.BAD_REQUEST, CloseCode.AUTH_REQUIRED, CloseCode.TOKEN_EXPIRED, CloseCode.INVALID_TOKEN,
            CloseCode.NOT_FOUND, CloseCode.ORIGIN_NOT_ALLOWED) == (4500, 4501, 4502, 4503, 4504, 4506)


def test_error_codes_are_unique() -> None:
    """No two error codes share a string."""
    assert len(ErrorCode.__members__) == len({c.value for c in ErrorCode})


# -- wire bytes ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("n", "header"), [
    (0, b"\x81\x00"),
    (1, b"\x81\x01"),
    (125, b"\x81\x7d"),
    (126, b"\x81\x7e\x00\x7e"),
    (65535, b"\x81\x7e\xff\xff"),
    (65536, b"\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00"),
])
def test_encode_text_frame_header(n: int, header: bytes) -> None:
    """The header is FIN+text, then a 7-bit length, 126 + 16 bits, or 127 + 64 bits (RFC 6455 5.2)."""
    payload = b"a" * n
    wire = encode_text_frame(payload)
    assert wire == header + payload
    assert len(wire) == len(header) + n


def test_encode_text_frame_is_unmasked_and_uncompressed() -> None:
    """The mask bit and RSV bits are unset: a server frame, not compressed."""
    wire = encode_text_frame(b"x" * 200)
    assert wire[0] & 0x70 == 0 and wire[0] & 0x0F == 0x1
    assert wire[1] & 0x80 == 0
    assert struct.unpack("!H", wire[2:4]) == (200,)


def test_frame_wire_is_built_once() -> None:
    """Frame.wire encodes on first access and returns the same bytes object after."""
    frame = Frame('{"type":"pong","data":{}}', seq=None)
    first = frame.wire
    assert first == b"\x81\x19" + b'{"type":"pong","data":{}}'
    assert frame.wire is first
    assert len(frame) == 27


def test_frame_wire_counts_utf8_bytes() -> None:
    """The length field counts encoded bytes, not characters."""
    frame = Frame('"é"')
    assert frame.wire == b"\x81\x04" + '"é"'.encode()


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                           max_leaves=10)


@given(head=st.dictionaries(st.text(max_size=5), json_values, max_size=4),
       body=st.dictionaries(st.text(max_size=5), json_values, max_size=4),
       tail=st.dictionaries(st.text(min_size=6), json_values, max_size=3))
def test_a_spliced_frame_is_the_merged_frame(head: dict[str, object], body: dict[str, object],
                                             tail: dict[str, object]) -> None:
    """The shared snapshot's JSON spliced between the user's fields and the welcome's tail reads
    as the merge would: the body's value wins a key both have, and any of them may be empty."""
    spliced = protocol.spliced_frame("connection_established", head, protocol.Serialized(body), tail)
    assert json.loads(spliced) == json.loads(protocol.frame("connection_established", {**head, **body, **tail}))


def test_a_spliced_frame_is_the_same_text_when_no_key_repeats() -> None:
    head, body, tail = {"user_id": "ü"}, {"tournament": {"name": "Cup \u2603"}, "matches": []}, {"seq": 7}
    assert (protocol.spliced_frame("subscribed", head, protocol.Serialized(body), tail)
            == protocol.frame("subscribed", {**head, **body, **tail}))
