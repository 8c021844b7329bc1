"""Strict JSON for fleet messages: each lenient corner of ``json.loads`` is a typed refusal.

Real: ``daemon.fleet.vda5050.strict_json.load_json`` on literal inputs. Nothing is faked.
"""

from __future__ import annotations

import json

import pytest

from daemon.fleet.vda5050.strict_json import MAX_DEPTH, JsonErrorCode, JsonRejectedError, load_json

Code = JsonErrorCode


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"[" * 60_000, Code.TOO_DEEP),
        (b'{"a":' * 5000 + b"1" + b"}" * 5000, Code.TOO_DEEP),
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), Code.TOO_DEEP),
        (b'{"a": 1e400}', Code.NON_FINITE),
        (b'{"a": -1e400}', Code.NON_FINITE),
        (b'{"a": NaN}', Code.NON_FINITE),
        (b'{"a": Infinity}', Code.NON_FINITE),
        (b'{"a": -Infinity}', Code.NON_FINITE),
        (b'{"a": ' + b"1" * 5000 + b"}", Code.NUMBER_TOO_LARGE),
        (b'{"a": 184467440737095516160}', Code.NUMBER_TOO_LARGE),
        (b'{"a": 1, "a": 2}', Code.DUPLICATE_KEY),
        (b'"\\ud800"', Code.LONE_SURROGATE),
        (b'{"\\udfff": 1}', Code.LONE_SURROGATE),
        (b"\xff{}", Code.NOT_UTF8),
        (b'"\xed\xa0\x80"', Code.NOT_UTF8),
        (b'"\xc0\x80"', Code.NOT_UTF8),
        (b"\xef\xbb\xbf{}", Code.SYNTAX),
        (b"", Code.SYNTAX),
        (b"{", Code.SYNTAX),
        (b"{} {}", Code.SYNTAX),
    ],
)
def test_lenient_corners_are_refused_with_their_code(payload: bytes, code: JsonErrorCode) -> None:
    with pytest.raises(JsonRejectedError) as caught:
        load_json(payload)
    assert caught.value.code is code
    assert len(caught.value.detail) <= 200


def test_strict_json_is_still_json() -> None:
    document = {"a": [1, -2.5, 0, 2**63, "é😀", "\\ud83d\\ude00", None, True, {"b": {}}]}
    assert load_json(json.dumps(document, ensure_ascii=False).encode()) == document
    assert load_json(json.dumps(document).encode()) == document
    nest = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert load_json(nest) is not None


def test_a_refused_document_that_a_lenient_parser_reads_is_kept_for_safety_scans() -> None:
    payload = b'{"actions": [{"actionType": "emergencyStop"}], "headerId": 1, "headerId": 2}'
    with pytest.raises(JsonRejectedError) as caught:
        load_json(payload)
    assert caught.value.partial["actions"][0]["actionType"] == "emergencyStop"
    with pytest.raises(JsonRejectedError) as unreadable:
        load_json(b"[" * 60_000)
    assert unreadable.value.partial is None


def test_size_is_checked_before_decoding() -> None:
    with pytest.raises(JsonRejectedError) as caught:
        load_json(b"\xff" * 100, max_bytes=10)
    assert caught.value.code is Code.TOO_LARGE
