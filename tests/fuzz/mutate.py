"""Mutation primitives shared by the fuzz generators: hostile values, text and byte edits.

Everything draws from one ``random.Random`` so a run is reproducible from its seed. Values are
the ones parsers get wrong in practice: wrong types everywhere, integers past every width,
floats past double range, NaN, deep nesting, lone surrogates, invalid UTF-8, huge sizes.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

Mutator = Callable[[random.Random, bytes], bytes]

HOSTILE_JSON_TOKENS: tuple[str, ...] = (
    "NaN",
    "-NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "-1e400",
    "1e-400",
    "0.0e99999",
    "1" + "0" * 5000,
    "-" + "9" * 4400,
    "18446744073709551616",
    "-9223372036854775809",
    '"\\ud800"',
    '"\\udfff\\ud800"',
    '"\\u0000"',
    "[" * 2000 + "]" * 2000,
    '{"a":' * 40 + "1" + "}" * 40,
    "null",
    "true",
    "[]",
    "{}",
    '""',
    '"' + "x" * 3000 + '"',
)
"""JSON (and not-quite-JSON) literals spliced into documents in place of a value."""

INVALID_UTF8: tuple[bytes, ...] = (
    b"\xff",
    b"\xfe",
    b"\xc0\x80",  # overlong NUL
    b"\xed\xa0\x80",  # an encoded surrogate
    b"\xf4\x90\x80\x80",  # beyond U+10FFFF
    b"\xe2\x82",  # truncated sequence
    b"\x80",
    b"\xef\xbb\xbf",  # a byte order mark (valid UTF-8, not valid JSON text)
)


def nested(rng: random.Random, depth: int | None = None, leaf: Any = 1) -> Any:
    """A list/dict nest ``depth`` deep (built iteratively). ``json.dumps`` recurses, so deeper
    nests are spliced in as text (``HOSTILE_JSON_TOKENS``, ``deep_text``)."""
    levels = depth if depth is not None else rng.choice((2, 8, 33, 100, 400))
    value = leaf
    for _ in range(levels):
        value = [value] if rng.random() < 0.5 else {"k": value}
    return value


def deep_text(rng: random.Random, depth: int) -> str:
    """``depth`` levels of arrays or objects as JSON text, however deep."""
    if rng.random() < 0.5:
        return "[" * depth + "1" + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def hostile_value(rng: random.Random) -> Any:
    """A JSON-serialisable value of a random, usually wrong, type (no NaN: see the tokens)."""
    choice = rng.randrange(20)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice((True, False))
    if choice == 2:
        return rng.choice((0, -1, 1, 2**31, 2**32, 2**53 + 1, 2**63, 2**64, -(2**63) - 1))
    if choice == 3:
        return rng.choice((10**30, -(10**25), 10**19))
    if choice == 4:
        return rng.choice((0.5, -0.0, 1e308, -1e-300, 3.0))
    if choice == 5:
        return ""
    if choice == 6:
        return "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(1, 12)))
    if choice == 7:
        return "x" * rng.choice((65, 129, 1000, 20_000))
    if choice == 8:
        return []
    if choice == 9:
        return {}
    if choice == 10:
        return nested(rng)
    if choice == 11:
        return [hostile_value(rng) for _ in range(rng.randrange(1, 4))]
    if choice == 12:
        return {f"k{i}": i for i in range(rng.choice((1, 5, 200)))}
    if choice == 13:
        return "emergencyStop"
    if choice == 14:
        return rng.choice(("NONE", "SOFT", "HARD", "none", "2.0.0", "3.0.0", "3"))
    if choice == 15:
        return "\ud800"  # a lone surrogate (json.dumps writes it as an escape)
    if choice == 16:
        return [{"key": "packageId", "value": hostile_value(rng)}]
    if choice == 17:
        return rng.randrange(-(2**70), 2**70)
    if choice == 18:
        return "../../etc/passwd"
    return "\x00\x01\x7f"


def paths(tree: Any) -> list[tuple[Any, ...]]:
    """Every path (keys and indexes) to a node of a JSON-like tree, the root first."""
    out: list[tuple[Any, ...]] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(tree, ())]
    while stack:
        node, prefix = stack.pop()
        out.append(prefix)
        if isinstance(node, dict):
            stack.extend((v, (*prefix, k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, (*prefix, i)) for i, v in enumerate(node))
    return out


def edit_tree(rng: random.Random, tree: Any, value: Callable[[random.Random], Any]) -> Any:
    """One structural edit of a (copied) tree: replace, delete, add or rename a node."""
    candidates = paths(tree)[1:]
    if not candidates:
        return value(rng)
    path = rng.choice(candidates)
    parent = tree
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    op = rng.randrange(4)
    if op == 0 or not isinstance(parent, dict):
        if op == 1 and isinstance(parent, list):
            del parent[last]
        elif op == 2 and isinstance(parent, list):
            parent.insert(last, value(rng))
        else:
            parent[last] = value(rng)
    elif op == 1:
        del parent[last]
    elif op == 2:
        parent[rng.choice(("unknown", "actions", "headerId", "\ud800", ""))] = value(rng)
    else:
        parent[str(last).upper() or "x"] = parent.pop(last)
    return tree


def splice_token(rng: random.Random, text: str, tokens: tuple[str, ...]) -> str:
    """Replace one scalar-looking span of ``text`` (after a ``:`` or ``[``) with a token."""
    starts = [i + 1 for i, c in enumerate(text) if c in ":[,"]
    if not starts:
        return rng.choice(tokens)
    start = rng.choice(starts)
    end = start
    while end < len(text) and text[end] not in ",]}":
        end += 1
    return text[:start] + rng.choice(tokens) + text[end:]


def duplicate_a_key(rng: random.Random, text: str) -> str:
    """Insert a second copy of an existing ``"key":value`` pair right after an object's ``{``."""
    opens = [i for i, c in enumerate(text) if c == "{"]
    if not opens:
        return text
    at = rng.choice(opens)
    key = rng.choice(("headerId", "actions", "actionType", "key", "manufacturer", "v", "fields"))
    return (
        text[: at + 1]
        + json.dumps(key)
        + ":"
        + json.dumps(hostile_value(rng))
        + ","
        + text[at + 1 :]
    )


def byte_edits(rng: random.Random, data: bytes) -> bytes:
    """1-4 byte-level edits: flips, inserts (often invalid UTF-8), deletions, truncation,
    duplicated ranges."""
    out = bytearray(data)
    for _ in range(rng.randrange(1, 5)):
        op = rng.randrange(6)
        at = rng.randrange(len(out) + 1)
        if op == 0 and out:
            out[min(at, len(out) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1:
            out[at:at] = rng.choice(INVALID_UTF8)
        elif op == 2:
            del out[at : at + rng.randrange(1, 64)]
        elif op == 3:
            del out[at:]
        elif op == 4:
            out[at:at] = out[at : at + rng.randrange(1, 256)]
        else:
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 16)))
    return bytes(out)
