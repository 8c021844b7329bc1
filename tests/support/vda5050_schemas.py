"""The official VDA 5050 v3 JSON schemas, loaded from the shared reference checkout.

They live in ``../shared/reference/vda5050/`` beside the repository (see SOURCE.md there) and
are never copied into the project. Tests that need them skip with the reason when absent.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

SCHEMA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "vda5050"
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
"""VDA 5050's ``YYYY-MM-DDTHH:mm:ss.fffZ`` (the schemas say date-time; jsonschema does not
check formats without extra packages, so tests check this pattern themselves)."""


@cache
def _validator(name: str) -> Any:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a dev dependency")
    path = SCHEMA_DIR / f"{name}.schema"
    if not path.exists():
        pytest.skip(f"VDA 5050 schema {path} not found (../shared/reference/vda5050, SOURCE.md)")
    schema = json.loads(path.read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def schema_errors(name: str, message: Any, *, is_timestamp_checked: bool = True) -> list[str]:
    """Every violation of schema ``name`` (e.g. ``"state"``), plus the timestamp pattern."""
    errors = [
        f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
        for e in _validator(name).iter_errors(message)
    ]
    stamp = message.get("timestamp") if isinstance(message, dict) else None
    if is_timestamp_checked and stamp is not None and not TIMESTAMP_RE.match(str(stamp)):
        errors.append(f"timestamp: {stamp!r} is not YYYY-MM-DDTHH:mm:ss.fffZ")
    return errors


def assert_valid(name: str, message: Any) -> None:
    errors = schema_errors(name, message)
    assert not errors, f"{name} message violates the VDA 5050 schema:\n" + "\n".join(errors)


def has_schemas() -> bool:
    return (SCHEMA_DIR / "state.schema").exists()


def check_if_available(name: str, message: Any) -> None:
    """``assert_valid`` where the schemas are present; only the timestamp check otherwise, so
    logic tests still run (the schema tests proper skip and say why)."""
    if has_schemas():
        assert_valid(name, message)
    else:
        stamp = message.get("timestamp") if isinstance(message, dict) else None
        assert stamp is None or TIMESTAMP_RE.match(str(stamp))
