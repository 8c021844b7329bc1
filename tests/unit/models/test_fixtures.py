"""The stand-in models have SONIC's contract and published widths, and probes read what they say.

Real: ONNX files from ``models.fixtures``, loaded by ``onnx`` and ONNX Runtime CPU.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx

from models import BackendKind, SessionConfig, open_session
from models.contracts import sonic_decoder_contract
from models.fixtures import parameter_count, readout_model, save

CPU = SessionConfig(backend=BackendKind.ORT_CPU)


def test_decoder_fixture_has_sonic_widths_and_about_10_2_m_parameters(
    sonic_width_decoder: Path,
) -> None:
    model = onnx.load(str(sonic_width_decoder))
    weights = [tuple(init.dims) for init in model.graph.initializer if init.name.startswith("w")]
    assert weights == [
        (994, 2048), (2048, 2048), (2048, 1024), (1024, 1024), (1024, 512), (512, 512), (512, 29),
    ]  # fmt: skip
    assert 10.15e6 < parameter_count(model) < 10.25e6
    assert [node.op_type for node in model.graph.node].count("Elu") == 6
    session = open_session(
        sonic_width_decoder, model="sonic_decoder", config=CPU, contract=sonic_decoder_contract()
    )
    action = np.zeros((1, 29), dtype=np.float32)
    session.run({"obs_dict": np.ones((1, 994), dtype=np.float32)}, {"action": action})
    assert np.isfinite(action).all()
    assert 0.01 < float(np.abs(action).mean()) < 10.0  # weights scaled: O(1) outputs


def test_readout_sums_repeated_and_grouped_indices(tmp_path: Path) -> None:
    model = readout_model(
        input_name="x", input_width=8, output_name="y", output_width=4, indices=[7, 7, (1, 2)]
    )
    session = open_session(save(model, tmp_path / "probe.onnx"), model="probe", config=CPU)
    y = np.full((1, 4), np.nan, dtype=np.float32)
    session.run({"x": np.arange(8, dtype=np.float32)[None, :]}, {"y": y})
    np.testing.assert_array_equal(y[0], [7.0, 7.0, 3.0, 0.0])
