"""Fixtures for estimator tests.

Real: the estimators code. Faked: motion content (the procedural demo motion and random SMPL
parameters stand in for GENMO/WiLoR output, which cannot be produced here).
"""

from __future__ import annotations

import pytest

from estimators.demo_motion import make_demo_package
from estimators.package import MotionPackage, PackageConfig, decode_package


@pytest.fixture(scope="session")
def demo_bytes() -> bytes:
    """The demo package on the wire (built once per session: it is deterministic)."""
    return make_demo_package()


@pytest.fixture(scope="session")
def demo_package(demo_bytes: bytes) -> MotionPackage:
    return decode_package(demo_bytes, PackageConfig()).package
