"""Fuzz suite settings: the CI share of the generated inputs per parser (the full run of
100,000 per parser is ``scripts/fuzz_parsers.py``)."""

from __future__ import annotations

CI_INPUTS_PER_PARSER = 5000
CI_SEED = 20260501
