"""ONNX Runtime backend: writes into caller buffers, IO binding, re-binding, GPU demands.

Real: ONNX Runtime (CPU build) on read-out ONNX models. Faked: only the machine description
(``RuntimeEnvironment``) where a test needs ONNX Runtime to be asked for a GPU provider it lacks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models import BackendKind, GpuRequiredError, ModelContractError, SessionConfig, open_session
from models.fixtures import readout_model, save
from models.ort_session import OrtSession
from tests.unit.models.model_helpers import fake_env


@pytest.fixture
def readout(tmp_path: Path) -> Path:
    """y[j] = x[3 * j] for j < 4, input width 16, output width 4."""
    model = readout_model(
        input_name="x", input_width=16, output_name="y", output_width=4, indices=[0, 3, 6, 9]
    )
    return save(model, tmp_path / "readout.onnx")


@pytest.mark.parametrize("io_binding", [True, False])
def test_run_writes_outputs_in_place_and_sees_input_updates(
    readout: Path, io_binding: bool
) -> None:
    config = SessionConfig(backend=BackendKind.ORT_CPU, use_io_binding=io_binding)
    session = open_session(readout, model="probe", config=config)
    x = np.zeros((1, 16), dtype=np.float32)
    y = np.zeros((1, 4), dtype=np.float32)
    inputs, outputs = {"x": x}, {"y": y}
    for step in range(3):
        x[0] = np.arange(16) + 100 * step  # updated in place, same array object
        session.run(inputs, outputs)
        np.testing.assert_array_equal(y[0], np.array([0, 3, 6, 9]) + 100 * step)
    assert session.backend is BackendKind.ORT_CPU


def test_new_buffers_are_rebound(readout: Path) -> None:
    session = open_session(
        readout, model="probe", config=SessionConfig(backend=BackendKind.ORT_CPU)
    )
    first_out = np.zeros((1, 4), dtype=np.float32)
    session.run({"x": np.ones((1, 16), dtype=np.float32)}, {"y": first_out})
    second_in = np.full(16, 2.0, dtype=np.float32)  # 1-D is fine: same element count
    second_out = np.zeros(4, dtype=np.float32)
    session.run({"x": second_in}, {"y": second_out})
    np.testing.assert_array_equal(second_out, 2.0)
    np.testing.assert_array_equal(first_out, 1.0)  # the old buffer is no longer written


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((1, 15), np.float32),
        np.zeros((1, 16), np.float64),
        np.zeros((16, 2), np.float32)[:, 0],
    ],
)
def test_unusable_buffer_is_a_contract_error(readout: Path, bad: np.ndarray) -> None:
    session = open_session(
        readout, model="probe", config=SessionConfig(backend=BackendKind.ORT_CPU)
    )
    with pytest.raises(ModelContractError, match="tensor 'x'"):
        session.run({"x": bad}, {"y": np.zeros((1, 4), np.float32)})


def test_gpu_demand_fails_when_onnx_runtime_falls_back_to_cpu(readout: Path) -> None:
    """ONNX Runtime only warns about a missing CUDA provider and runs on the CPU; a config that
    demands the GPU must fail at load instead."""
    env = fake_env(tensorrt=None, providers=("CUDAExecutionProvider", "CPUExecutionProvider"))
    with (
        pytest.warns(UserWarning, match="CUDAExecutionProvider"),
        pytest.raises(GpuRequiredError, match="fell back to CPUExecutionProvider"),
    ):
        OrtSession.open(
            readout, model="probe", backend=BackendKind.ORT_CUDA,
            config=SessionConfig(backend=BackendKind.ORT_CUDA), env=env,
        )  # fmt: skip


def test_auto_without_gpu_runs_on_cpu_and_logs_why(
    readout: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="models")
    session = open_session(readout, model="probe_auto_cpu", env=fake_env(gpu=None))
    assert session.backend is BackendKind.ORT_CPU
    choice = [r.getMessage() for r in caplog.records if "backend ort-cpu" in r.getMessage()]
    assert choice == ["model probe_auto_cpu: backend ort-cpu (no NVIDIA driver (libcuda.so.1 "
                      "not loadable))"]  # fmt: skip
    assert any("running on CPUExecutionProvider" in r.getMessage() for r in caplog.records)
    caplog.clear()
    open_session(readout, model="probe_auto_cpu", env=fake_env(gpu=None))
    assert not [r for r in caplog.records if "backend ort-cpu" in r.getMessage()]  # once


def test_close_is_idempotent_and_a_later_run_rebinds(readout: Path) -> None:
    session = open_session(
        readout, model="probe", config=SessionConfig(backend=BackendKind.ORT_CPU)
    )
    x, y = np.ones((1, 16), np.float32), np.zeros((1, 4), np.float32)
    session.run({"x": x}, {"y": y})
    session.close()
    session.close()
    y.fill(0.0)
    session.run({"x": x}, {"y": y})
    np.testing.assert_array_equal(y, 1.0)
