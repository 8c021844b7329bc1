"""Embodiment tables: data modules describing the G1 body and the Dex3-1 hands."""
