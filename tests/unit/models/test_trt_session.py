"""TrtSession's run path: pinned buffers, copy-in / enqueue / copy-out, CUDA graph replay.

Faked (no GPU here): cuda-python's runtime and TensorRT's runtime objects. The fake "device"
memory is host memory, copies are real ``memmove``s in stream order, the fake engine computes
``action = 2 * obs[:29] + 1`` from device memory, and stream capture records the operations that
``cudaGraphLaunch`` replays, so a graph that captured the wrong buffers or order gives wrong
numbers. Real: ``TrtSession`` itself. The real thing runs in ``test_trt_gpu.py``.
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Callable
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import pytest

from models import InferenceError, ModelLoadError, SessionConfig
from models.session import BackendKind
from models.trt_session import TrtSession

IN, OUT = 994, 29


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class FakeCudart:
    def __init__(self, *, capture_fails: bool = False) -> None:
        self.cudaMemcpyKind = SimpleNamespace(cudaMemcpyHostToDevice=1, cudaMemcpyDeviceToHost=2)
        self.cudaStreamCaptureMode = SimpleNamespace(cudaStreamCaptureModeThreadLocal=1)
        self.memory: dict[int, Any] = {}
        self.capturing: list[Callable[[], object]] | None = None
        self.capture_fails = capture_fails
        self.launches = 0
        self.fail_sync = False
        self.freed: list[int] = []
        # cuda-python's function names, bound to the fake's methods.
        for name in (
            "cudaSetDevice",
            "cudaStreamCreate",
            "cudaMallocHost",
            "cudaMalloc",
            "cudaMemcpyAsync",
            "cudaStreamSynchronize",
            "cudaStreamBeginCapture",
            "cudaStreamEndCapture",
            "cudaGraphInstantiate",
            "cudaGraphLaunch",
            "cudaGraphExecDestroy",
            "cudaGraphDestroy",
            "cudaFree",
            "cudaFreeHost",
            "cudaStreamDestroy",
        ):
            setattr(self, name, getattr(self, "_" + _snake(name[4:])))

    def _alloc(self, nbytes: int) -> tuple[int, int]:
        block = (ctypes.c_byte * nbytes)()
        self.memory[ctypes.addressof(block)] = block
        return 0, ctypes.addressof(block)

    def submit(self, op: Callable[[], object]) -> None:
        if self.capturing is not None:
            self.capturing.append(op)
        else:
            op()

    def _set_device(self, device: int) -> tuple[int]:
        return (0,)

    def _stream_create(self) -> tuple[int, int]:
        return 0, 7

    def _malloc_host(self, nbytes: int) -> tuple[int, int]:
        return self._alloc(nbytes)

    def _malloc(self, nbytes: int) -> tuple[int, int]:
        return self._alloc(nbytes)

    def _memcpy_async(self, dst: int, src: int, n: int, kind: int, stream: int) -> tuple[int]:
        self.submit(lambda: ctypes.memmove(dst, src, n))
        return (0,)

    def _stream_synchronize(self, stream: int) -> tuple[int]:
        return (700,) if self.fail_sync else (0,)

    def _stream_begin_capture(self, stream: int, mode: int) -> tuple[int]:
        self.capturing = []
        return (0,)

    def _stream_end_capture(self, stream: int) -> tuple[int, list[Callable[[], object]]]:
        graph, self.capturing = self.capturing or [], None
        return (901 if self.capture_fails else 0), graph

    def _graph_instantiate(self, graph: list[Callable[[], object]], flags: int) -> tuple[int, Any]:
        return 0, list(graph)

    def _graph_launch(self, graph_exec: list[Callable[[], object]], stream: int) -> tuple[int]:
        self.launches += 1
        for op in graph_exec:
            op()
        return (0,)

    def _graph_exec_destroy(self, handle: Any) -> tuple[int]:
        return (0,)

    def _graph_destroy(self, handle: Any) -> tuple[int]:
        return (0,)

    def _free(self, ptr: int) -> tuple[int]:
        self.freed.append(ptr)
        return (0,)

    def _free_host(self, ptr: int) -> tuple[int]:
        self.freed.append(ptr)
        return (0,)

    def _stream_destroy(self, stream: int) -> tuple[int]:
        return (0,)


def fake_trt(cudart: FakeCudart, *, deserializes: bool = True) -> ModuleType:
    trt = ModuleType("tensorrt")
    trt.__version__ = "10.7.0"  # type: ignore[attr-defined]
    trt.TensorIOMode = SimpleNamespace(INPUT="in", OUTPUT="out")  # type: ignore[attr-defined]
    trt.nptype = lambda dtype: np.float32  # type: ignore[attr-defined]

    class ILogger:
        Severity = SimpleNamespace(INTERNAL_ERROR=0, ERROR=1, WARNING=2, INFO=3, VERBOSE=4)

        def __init__(self) -> None:
            pass

    class Context:
        def __init__(self) -> None:
            self.address: dict[str, int] = {}

        def set_input_shape(self, name: str, shape: tuple[int, ...]) -> None:
            assert shape == (1, IN)

        def set_tensor_address(self, name: str, ptr: int) -> None:
            self.address[name] = ptr

        def execute_async_v3(self, stream: int) -> bool:
            def compute() -> None:
                x = np.ctypeslib.as_array(
                    (ctypes.c_float * IN).from_address(self.address["obs_dict"])
                )
                y = np.ctypeslib.as_array(
                    (ctypes.c_float * OUT).from_address(self.address["action"])
                )
                y[:] = 2.0 * x[:OUT] + 1.0

            cudart.submit(compute)
            return True

    class Engine:
        num_io_tensors = 2
        names = ("obs_dict", "action")

        def get_tensor_name(self, index: int) -> str:
            return self.names[index]

        def get_tensor_mode(self, name: str) -> str:
            return "in" if name == "obs_dict" else "out"

        def get_tensor_shape(self, name: str) -> tuple[int, ...]:
            return (1, IN) if name == "obs_dict" else (1, OUT)

        def get_tensor_dtype(self, name: str) -> str:
            return "float"

        def create_execution_context(self) -> Context:
            return Context()

    class Runtime:
        def __init__(self, logger: Any) -> None:
            pass

        def deserialize_cuda_engine(self, plan: bytes) -> Engine | None:
            return Engine() if deserializes else None

    trt.ILogger = ILogger  # type: ignore[attr-defined]
    trt.Runtime = Runtime  # type: ignore[attr-defined]
    return trt


def _session(cudart: FakeCudart, **config: Any) -> TrtSession:
    return TrtSession(b"plan", model="sonic_decoder", config=SessionConfig(**config),
                      trt=fake_trt(cudart), cudart=cudart)  # fmt: skip


def test_graph_replays_with_each_new_input() -> None:
    cudart = FakeCudart()
    session = _session(cudart)
    assert session.uses_cuda_graph
    assert session.backend is BackendKind.TENSORRT
    assert [s.shape for s in session.input_spec + session.output_spec] == [(1, IN), (1, OUT)]
    x, y = np.zeros((1, IN), np.float32), np.zeros((1, OUT), np.float32)
    for value in (1.0, -3.0, 0.5):
        x.fill(value)  # same buffer, new values
        session.run({"obs_dict": x}, {"action": y})
        np.testing.assert_array_equal(y, 2.0 * value + 1.0)
    assert cudart.launches == 3


def test_without_graph_the_same_results_come_from_direct_enqueue() -> None:
    cudart = FakeCudart()
    session = _session(cudart, use_cuda_graph=False)
    assert not session.uses_cuda_graph
    x, y = np.arange(IN, dtype=np.float32)[None, :], np.zeros((1, OUT), np.float32)
    session.run({"obs_dict": x}, {"action": y})
    np.testing.assert_array_equal(y[0], 2.0 * np.arange(OUT) + 1.0)
    assert cudart.launches == 0


def test_failed_capture_falls_back_to_direct_enqueue() -> None:
    cudart = FakeCudart(capture_fails=True)
    session = _session(cudart)
    assert not session.uses_cuda_graph
    x, y = np.ones((1, IN), np.float32), np.zeros((1, OUT), np.float32)
    session.run({"obs_dict": x}, {"action": y})
    np.testing.assert_array_equal(y, 3.0)


def test_cuda_error_while_running_is_an_inference_error() -> None:
    cudart = FakeCudart()
    session = _session(cudart)
    cudart.fail_sync = True
    with pytest.raises(InferenceError, match="cudaStreamSynchronize: 700"):
        session.run({"obs_dict": np.ones((1, IN), np.float32)},
                    {"action": np.zeros((1, OUT), np.float32)})  # fmt: skip


def test_engine_that_does_not_deserialize_is_a_load_error() -> None:
    cudart = FakeCudart()
    with pytest.raises(ModelLoadError, match="could not deserialize"):
        TrtSession(b"garbage", model="m", config=SessionConfig(),
                   trt=fake_trt(cudart, deserializes=False), cudart=cudart)  # fmt: skip


def test_close_frees_every_buffer_once() -> None:
    cudart = FakeCudart()
    session = _session(cudart)
    session.close()
    session.close()
    assert len(cudart.freed) == 4  # host + device for each of the two tensors
