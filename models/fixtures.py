"""Stand-in ONNX models with SONIC's exact input/output contract (``onnx`` helper API).

The real SONIC weights (``nvidia/GEAR-SONIC``) cannot be downloaded where this project is tested,
so tests and benchmarks build their own models:

- ``sonic_decoder_fixture``: an MLP with SONIC's published decoder widths
  994 -> [2048, 2048, 1024, 1024, 512, 512] -> 29 and ELU activations, random weights
  (about 10.2 M parameters). For timing only: its outputs mean nothing.
- ``sonic_encoder_fixture``: 1762 -> [2048, 1024, 512] -> 64. SONIC's encoder widths are *not*
  published (the released encoder also runs three sub-encoders behind a mode selector); this is
  a stand-in of plausible size for timing, nothing more.
- ``readout_model``: "probe" models whose output ``j`` is input element ``indices[j]`` (a fixed
  one-hot linear read-out), so tests can see exactly which observation value sits at which
  offset.

Nothing here is used by the runtime itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from models.contracts import (
    SONIC_ACTION_DIM,
    SONIC_DECODER_INPUT_DIM,
    SONIC_DECODER_OUTPUT_NAME,
    SONIC_ENCODER_OUTPUT_NAME,
    SONIC_INPUT_NAME,
    SONIC_TOKEN_DIM,
    EncoderVariant,
)

SONIC_DECODER_HIDDEN = (2048, 2048, 1024, 1024, 512, 512)
"""Published in SONIC's troubleshooting notes and ``sonic_release`` config."""
STANDIN_ENCODER_HIDDEN = (2048, 1024, 512)
"""Not SONIC's: its encoder widths are unpublished. A timing stand-in."""

_OPSET = 17  # ONNX Runtime 1.17+ and TensorRT 10 parse it; the robot's ORT may be old
_IR_VERSION = 8


def _model(graph: onnx.GraphProto) -> onnx.ModelProto:
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", _OPSET)], producer_name="exoactor-fixtures"
    )
    model.ir_version = _IR_VERSION
    onnx.checker.check_model(model)
    return model


def mlp_model(
    *,
    input_name: str,
    input_width: int,
    output_name: str,
    output_width: int,
    hidden: Sequence[int],
    seed: int = 0,
    graph_name: str = "mlp",
) -> onnx.ModelProto:
    """Dense layers with ELU between them (none after the last), input [1, in] -> [1, out].

    Weights are N(0, 1/fan_in) so activations stay O(1) through the depth.
    """
    rng = np.random.default_rng(seed)
    widths = [input_width, *hidden, output_width]
    nodes, initializers = [], []
    current = input_name
    for layer, (fan_in, fan_out) in enumerate(itertools.pairwise(widths)):
        weight = rng.standard_normal((fan_in, fan_out), dtype=np.float32)
        weight *= np.float32(1.0 / np.sqrt(fan_in))
        bias = (0.01 * rng.standard_normal(fan_out)).astype(np.float32)
        initializers += [
            numpy_helper.from_array(weight, f"w{layer}"),
            numpy_helper.from_array(bias, f"b{layer}"),
        ]
        last = layer == len(widths) - 2
        dense = output_name if last else f"dense{layer}"
        nodes.append(helper.make_node("Gemm", [current, f"w{layer}", f"b{layer}"], [dense]))
        if not last:
            current = f"elu{layer}"
            nodes.append(helper.make_node("Elu", [dense], [current], alpha=1.0))
    graph = helper.make_graph(
        nodes,
        graph_name,
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [1, input_width])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, [1, output_width])],
        initializers,
    )
    return _model(graph)


def readout_model(
    *,
    input_name: str,
    input_width: int,
    output_name: str,
    output_width: int,
    indices: Sequence[int | Sequence[int]],
) -> onnx.ModelProto:
    """Probe: ``y[0, j] = x[0, indices[j]]`` for ``j < len(indices)``, 0 beyond.

    An entry may also be a sequence of input indices, whose values are summed. A 0/1 MatMul
    keeps it a plain linear model every backend runs.
    """
    if len(indices) > output_width:
        raise ValueError(f"{len(indices)} read-outs do not fit {output_width} outputs")
    selection = np.zeros((input_width, output_width), dtype=np.float32)
    for column, rows in enumerate(indices):
        for row in [rows] if isinstance(rows, int) else rows:
            selection[row, column] += 1.0
    graph = helper.make_graph(
        [helper.make_node("MatMul", [input_name, "selection"], [output_name])],
        "readout",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [1, input_width])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, [1, output_width])],
        [numpy_helper.from_array(selection, "selection")],
    )
    return _model(graph)


def parameter_count(model: onnx.ModelProto) -> int:
    return int(sum(np.prod(init.dims, dtype=np.int64) for init in model.graph.initializer))


def save(model: onnx.ModelProto, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def sonic_decoder_fixture(
    path: Path, *, hidden: Sequence[int] = SONIC_DECODER_HIDDEN, seed: int = 1
) -> Path:
    """Write a random-weight decoder with SONIC's contract (and, by default, its widths)."""
    model = mlp_model(
        input_name=SONIC_INPUT_NAME,
        input_width=SONIC_DECODER_INPUT_DIM,
        output_name=SONIC_DECODER_OUTPUT_NAME,
        output_width=SONIC_ACTION_DIM,
        hidden=hidden,
        seed=seed,
        graph_name="sonic_decoder_fixture",
    )
    return save(model, path)


def sonic_encoder_fixture(
    path: Path,
    *,
    variant: EncoderVariant = EncoderVariant.RELEASE,
    hidden: Sequence[int] = STANDIN_ENCODER_HIDDEN,
    seed: int = 2,
) -> Path:
    """Write a random-weight stand-in encoder with SONIC's contract for ``variant``."""
    model = mlp_model(
        input_name=SONIC_INPUT_NAME,
        input_width=variant.input_width,
        output_name=SONIC_ENCODER_OUTPUT_NAME,
        output_width=SONIC_TOKEN_DIM,
        hidden=hidden,
        seed=seed,
        graph_name="sonic_encoder_standin",
    )
    return save(model, path)


def sonic_decoder_probe(path: Path, indices: Sequence[int | Sequence[int]]) -> Path:
    """Decoder-contract probe: ``action[j] = obs_dict[indices[j]]``."""
    model = readout_model(
        input_name=SONIC_INPUT_NAME,
        input_width=SONIC_DECODER_INPUT_DIM,
        output_name=SONIC_DECODER_OUTPUT_NAME,
        output_width=SONIC_ACTION_DIM,
        indices=indices,
    )
    return save(model, path)


def sonic_encoder_probe(
    path: Path, variant: EncoderVariant, indices: Sequence[int | Sequence[int]]
) -> Path:
    """Encoder-contract probe: ``encoded_tokens[j] = obs_dict[indices[j]]``."""
    model = readout_model(
        input_name=SONIC_INPUT_NAME,
        input_width=variant.input_width,
        output_name=SONIC_ENCODER_OUTPUT_NAME,
        output_width=SONIC_TOKEN_DIM,
        indices=indices,
    )
    return save(model, path)
