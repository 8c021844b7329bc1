"""Strict, bounded JSON decoding for fleet messages: RFC 8259 only, every refusal typed.

Python's ``json.loads`` is lenient where a robot must not be: it accepts ``NaN`` and
``Infinity``, turns ``1e400`` into infinity, keeps the last of duplicate keys, accepts lone
UTF-16 surrogate escapes (``"\\ud800"``, which no UTF-8 encoder can write back), raises
``RecursionError`` on deep nesting (``[[[[...``) and ``ValueError`` on integers over 4,300 digits.
``load_json`` turns each of these into a ``JsonRejectedError`` with a ``JsonErrorCode``; nothing
else escapes it, whatever the bytes.

A refused document that a lenient parser could still read is kept in ``partial`` (last
duplicate wins, placeholders for bad numbers) so a caller may look for a safety request in it
(an e-stop is honoured even in a malformed message) without acting on anything else.
"""

from __future__ import annotations

import enum
import json
import math
import re
from typing import Any

MAX_DEPTH = 32
"""Nesting of arrays and objects allowed; VDA 5050 messages need fewer than 8 levels."""
MAX_INT_DIGITS = 20
"""Decimal digits of an integer (a uint64 has 20); beyond, the number cannot be meant."""
_SHOWN = 64
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JsonErrorCode(str, enum.Enum):
    """Stable reasons a JSON document is refused."""

    TOO_LARGE = "too_large"
    NOT_UTF8 = "not_utf8"
    SYNTAX = "syntax"
    """Not JSON text (includes a UTF-8 byte order mark, which RFC 8259 forbids to senders)."""
    TOO_DEEP = "too_deep"
    NON_FINITE = "non_finite"
    """``NaN`` / ``Infinity`` literals, or a number beyond the float range (``1e400``)."""
    NUMBER_TOO_LARGE = "number_too_large"
    DUPLICATE_KEY = "duplicate_key"
    LONE_SURROGATE = "lone_surrogate"


class JsonRejectedError(ValueError):
    """A document was refused.

    Attributes:
        code: the stable reason.
        detail: a human-readable explanation (bounded; never the whole input).
        partial: the document as a lenient parser reads it, or None when it cannot be read.
    """

    def __init__(self, code: JsonErrorCode, detail: str, partial: Any = None) -> None:
        super().__init__(f"[{code.value}] {detail}")
        self.code = code
        self.detail = detail
        self.partial = partial


class _Problems:
    """The first problem the parser hooks saw (the hooks cannot raise through ``json``)."""

    def __init__(self) -> None:
        self.first: tuple[JsonErrorCode, str] | None = None

    def note(self, code: JsonErrorCode, detail: str) -> None:
        if self.first is None:
            self.first = (code, detail)

    def parse_constant(self, name: str) -> None:
        self.note(JsonErrorCode.NON_FINITE, f"{name} is not a JSON number")

    def parse_float(self, text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            self.note(JsonErrorCode.NON_FINITE, f"{text[:_SHOWN]} overflows a double")
        return value

    def parse_int(self, text: str) -> int:
        if len(text.lstrip("-")) > MAX_INT_DIGITS:
            self.note(
                JsonErrorCode.NUMBER_TOO_LARGE,
                f"an integer of {len(text)} digits (at most {MAX_INT_DIGITS})",
            )
            return 0
        return int(text)

    def pairs(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    self.note(JsonErrorCode.DUPLICATE_KEY, f"key {key[:_SHOWN]!r} appears twice")
                    break
                seen.add(key)
        return result


def _has_lone_surrogate(text: str) -> bool:
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _check_tree(document: Any, max_depth: int) -> tuple[JsonErrorCode, str] | None:
    """Depth and string checks, iteratively (no recursion, whatever the nesting). Also
    checks strings when called: the caller skips the walk when the text cannot fail it."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if _has_lone_surrogate(node):
                return JsonErrorCode.LONE_SURROGATE, "a string holds an unpaired surrogate"
            continue
        if not isinstance(node, (list, dict)):
            continue
        if depth > max_depth:
            return JsonErrorCode.TOO_DEEP, f"nested deeper than {max_depth} levels"
        if isinstance(node, dict):
            for key, value in node.items():
                stack.append((key, depth))
                stack.append((value, depth + 1))
        else:
            stack.extend((value, depth + 1) for value in node)
    return None


def load_json(payload: bytes, *, max_bytes: int | None = None, max_depth: int = MAX_DEPTH) -> Any:
    """Decode one JSON document strictly.

    Args:
        payload: the raw message (UTF-8).
        max_bytes: larger payloads are refused unread (None: no limit here).
        max_depth: deepest nesting of arrays and objects accepted.

    Raises:
        JsonRejectedError: for every way the payload is not strict, bounded JSON.
    """
    if max_bytes is not None and len(payload) > max_bytes:
        raise JsonRejectedError(
            JsonErrorCode.TOO_LARGE, f"{len(payload)} bytes exceed the limit of {max_bytes}"
        )
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonRejectedError(
            JsonErrorCode.NOT_UTF8, f"invalid UTF-8 at byte {exc.start}: {exc.reason}"
        ) from None
    problems = _Problems()
    try:
        document = json.loads(
            text,
            object_pairs_hook=problems.pairs,
            parse_constant=problems.parse_constant,
            parse_float=problems.parse_float,
            parse_int=problems.parse_int,
        )
    except RecursionError:
        raise JsonRejectedError(
            JsonErrorCode.TOO_DEEP, f"nested deeper than {max_depth} levels"
        ) from None
    except ValueError as exc:  # json.JSONDecodeError
        raise JsonRejectedError(JsonErrorCode.SYNTAX, str(exc)[:200]) from None
    found = problems.first
    # Only \u escapes can make a lone surrogate (the UTF-8 decoder refuses encoded ones), and
    # only that many brackets can nest that deep: most messages skip the walk.
    if found is None and (
        _SURROGATE_ESCAPE.search(text) or text.count("[") + text.count("{") > max_depth
    ):
        found = _check_tree(document, max_depth)
    if found is not None:
        raise JsonRejectedError(found[0], found[1], partial=document)
    return document
