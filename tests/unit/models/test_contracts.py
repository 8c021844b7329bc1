"""Model contracts are checked at load: clear errors for wrong widths, names, dtypes and files.

Real: ONNX files built with the ``onnx`` helper API, loaded by ONNX Runtime CPU through
``open_session``. Nothing is faked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from models import (
    BackendKind,
    EncoderVariant,
    ModelContractError,
    ModelLoadError,
    SessionConfig,
    TensorSpec,
    open_session,
)
from models.contracts import (
    detect_encoder_variant,
    sonic_decoder_contract,
    sonic_encoder_contract,
)
from models.fixtures import mlp_model, save

CPU = SessionConfig(backend=BackendKind.ORT_CPU)


def _linear(
    path: Path,
    *,
    input_name: str = "obs_dict",
    width: int = 994,
    output_name: str = "action",
    out: int = 29,
    dtype: int = TensorProto.FLOAT,
    extra_input: bool = False,
) -> Path:
    """y = x @ W with chosen names, widths and element type."""
    np_dtype = np.float64 if dtype == TensorProto.DOUBLE else np.float32
    nodes = [helper.make_node("MatMul", [input_name, "w"], [output_name])]
    inputs = [helper.make_tensor_value_info(input_name, dtype, [1, width])]
    if extra_input:
        inputs.append(helper.make_tensor_value_info("extra", dtype, [1, 1]))
        nodes = [
            helper.make_node("MatMul", [input_name, "w"], ["m"]),
            helper.make_node("ReduceSum", ["extra"], ["s"], keepdims=0),
            helper.make_node("Add", ["m", "s"], [output_name]),
        ]
    graph = helper.make_graph(
        nodes,
        "linear",
        inputs,
        [helper.make_tensor_value_info(output_name, dtype, [1, out])],
        [numpy_helper.from_array(np.zeros((width, out), dtype=np_dtype), "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return save(model, path)


def test_sonic_shaped_models_pass(tiny_models: dict[str, Path]) -> None:
    decoder = open_session(
        tiny_models["decoder"], model="sonic_decoder", config=CPU, contract=sonic_decoder_contract()
    )
    assert decoder.input_spec == (TensorSpec("obs_dict", (1, 994), np.dtype(np.float32)),)
    assert decoder.output_spec == (TensorSpec("action", (1, 29), np.dtype(np.float32)),)


@pytest.mark.parametrize("variant", list(EncoderVariant))
def test_encoder_variant_is_detected_from_its_width(
    tiny_models: dict[str, Path], variant: EncoderVariant
) -> None:
    session = open_session(tiny_models[variant.value], model="sonic_encoder", config=CPU)
    assert detect_encoder_variant(session) is variant
    sonic_encoder_contract(variant).check(session)


def test_wrong_decoder_width_names_model_tensor_and_both_shapes(tmp_path: Path) -> None:
    path = _linear(tmp_path / "dec990.onnx", width=990)
    with pytest.raises(ModelContractError) as caught:
        open_session(path, model="sonic_decoder", config=CPU, contract=sonic_decoder_contract())
    error = caught.value
    assert error.model == "sonic_decoder"
    assert error.tensor == "obs_dict"
    assert error.expected is not None
    assert error.expected.shape == (1, 994)
    assert error.actual is not None
    assert error.actual.shape == (1, 990)
    assert str(error) == (
        "model 'sonic_decoder', tensor 'obs_dict': expected obs_dict[1, 994] float32, "
        "got obs_dict[1, 990] float32"
    )


def test_unknown_encoder_width_lists_the_known_ones(tmp_path: Path) -> None:
    path = _linear(tmp_path / "enc1700.onnx", width=1700, output_name="encoded_tokens", out=64)
    session = open_session(path, model="sonic_encoder", config=CPU)
    with pytest.raises(ModelContractError, match=r"\[1, 1700\].*1762 \(release\).*1247"):
        detect_encoder_variant(session)


def test_wrong_output_name_reports_the_missing_tensor(tmp_path: Path) -> None:
    path = _linear(tmp_path / "actions.onnx", output_name="actions")
    with pytest.raises(ModelContractError) as caught:
        open_session(path, model="sonic_decoder", config=CPU, contract=sonic_decoder_contract())
    assert caught.value.tensor == "action"
    assert caught.value.actual is None
    assert "got missing; model has actions[1, 29] float32" in str(caught.value)


def test_wrong_dtype_is_a_contract_error(tmp_path: Path) -> None:
    path = _linear(tmp_path / "double.onnx", dtype=TensorProto.DOUBLE)
    with pytest.raises(ModelContractError, match="float64"):
        open_session(path, model="sonic_decoder", config=CPU, contract=sonic_decoder_contract())


def test_an_extra_input_is_a_contract_error(tmp_path: Path) -> None:
    path = _linear(tmp_path / "extra.onnx", extra_input=True)
    with pytest.raises(ModelContractError) as caught:
        open_session(path, model="sonic_decoder", config=CPU, contract=sonic_decoder_contract())
    assert caught.value.tensor == "extra"
    assert caught.value.expected is None


def test_missing_file_is_a_load_error(tmp_path: Path) -> None:
    path = tmp_path / "nope" / "model_decoder.onnx"
    with pytest.raises(ModelLoadError) as caught:
        open_session(path, model="sonic_decoder", config=CPU)
    assert caught.value.path == path
    assert "file not found" in str(caught.value)


@pytest.mark.parametrize("content", [b"", b"not an onnx file at all", b"\x08\x07\x12\x00garbage"])
def test_corrupt_file_is_a_load_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "model_decoder.onnx"
    path.write_bytes(content)
    with pytest.raises(ModelLoadError, match="ONNX Runtime rejected it"):
        open_session(path, model="sonic_decoder", config=CPU)


def test_truncated_file_is_a_load_error(tmp_path: Path) -> None:
    model = mlp_model(
        input_name="obs_dict", input_width=994, output_name="action", output_width=29, hidden=(8,)
    )
    blob = model.SerializeToString()
    path = tmp_path / "truncated.onnx"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ModelLoadError):
        open_session(path, model="sonic_decoder", config=CPU)
    onnx.checker.check_model(model)  # the untruncated model itself is valid
