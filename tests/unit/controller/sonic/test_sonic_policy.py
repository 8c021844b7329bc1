"""SonicPolicy as a TrackingController: targets, gains, faults, token mode, loading, allocation.

Real: the policy, ONNX Runtime CPU sessions on ONNX files built with ``models.fixtures``
(SONIC-width ones where the size matters). Faked: one ``Session`` that raises ``InferenceError``
and one that counts calls (Protocol fakes, no mocks), for paths real models cannot reach.
"""

from __future__ import annotations

import gc
import os
import tracemalloc
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from onnx import TensorProto, helper, numpy_helper

import controller.sonic
import models
from controller.embodiment.g1 import ACTION_SCALE, KD, KP, Q_DEFAULT
from controller.robot.base import RobotCommand
from controller.sonic import SonicConfig, SonicPolicy, StepFault, load_sonic_policy
from controller.tracking import ControllerKind, TrackingController
from models import (
    BackendKind,
    EncoderVariant,
    InferenceError,
    ModelContractError,
    ModelLoadError,
    Session,
    SessionConfig,
    TensorSpec,
)
from models.contracts import sonic_decoder_contract, sonic_encoder_contract
from models.fixtures import save
from tests.unit.controller.sonic.sonic_helpers import make_state, make_track

CPU = SessionConfig(backend=BackendKind.ORT_CPU)
DecoderProbe = Callable[[Sequence[int | Sequence[int]]], Session]


class FakeSession:
    """A ``Session`` with a given contract that writes ``value`` (or raises) on ``run``."""

    def __init__(self, contract_specs: tuple[tuple[TensorSpec, ...], tuple[TensorSpec, ...]],
                 *, value: float = 0.0, fail: bool = False) -> None:  # fmt: skip
        self.input_spec, self.output_spec = contract_specs
        self.backend = BackendKind.ORT_CPU
        self.value, self.fail, self.runs, self.closed = value, fail, 0, False

    def run(
        self,
        inputs: Mapping[str, npt.NDArray[np.generic]],
        outputs: Mapping[str, npt.NDArray[np.generic]],
    ) -> None:
        self.runs += 1
        if self.fail:
            raise InferenceError("fake", "CUDA error 700")
        for array in outputs.values():
            array.fill(self.value)

    def close(self) -> None:
        self.closed = True


def _decoder_specs() -> tuple[tuple[TensorSpec, ...], tuple[TensorSpec, ...]]:
    contract = sonic_decoder_contract()
    return contract.inputs, contract.outputs


def _encoder_specs() -> tuple[tuple[TensorSpec, ...], tuple[TensorSpec, ...]]:
    contract = sonic_encoder_contract(EncoderVariant.RELEASE)
    return contract.inputs, contract.outputs


def test_policy_is_a_tracking_controller(decoder_probe: DecoderProbe) -> None:
    policy: TrackingController = SonicPolicy(decoder=decoder_probe([0]), encoder=None)
    assert policy.kind is ControllerKind.SONIC


def test_step_proposes_default_plus_scaled_action_in_hardware_order() -> None:
    """Constant action a: q = Q_DEFAULT + ACTION_SCALE * a; SONIC gains; dq = tau = 0."""
    decoder = FakeSession(_decoder_specs(), value=0.5)
    policy = SonicPolicy(decoder=decoder, encoder=None)
    state = make_state(1)
    out = RobotCommand()
    out.dq.fill(3.0)
    out.tau.fill(3.0)
    policy.start(make_track(), state)
    policy.step(state, 0, out)
    np.testing.assert_allclose(out.q, Q_DEFAULT + ACTION_SCALE * 0.5)
    np.testing.assert_array_equal(out.kp, KP)
    np.testing.assert_array_equal(out.kd, KD)
    assert not out.dq.any()
    assert not out.tau.any()
    assert policy.last_step_finite
    assert policy.last_fault is StepFault.NONE


def test_non_finite_observation_proposes_damping_and_flags_it() -> None:
    decoder = FakeSession(_decoder_specs(), value=0.5)
    policy = SonicPolicy(decoder=decoder, encoder=None)
    state = make_state(2)
    policy.start(make_track(), state)
    state.q[3] = np.nan
    out = RobotCommand()
    policy.step(state, 0, out)
    assert not policy.last_step_finite
    assert policy.last_fault is StepFault.NON_FINITE_OBSERVATION
    assert decoder.runs == 0  # no inference on garbage
    assert not out.kp.any()
    np.testing.assert_array_equal(out.kd, KD)
    np.testing.assert_array_equal(out.q, state.q)  # NaN included: the supervisor sees it too


def test_non_finite_action_is_flagged_and_not_fed_back(tmp_path: Path) -> None:
    """A decoder that outputs NaN: fault flagged; last_action keeps the last finite one."""
    nan = numpy_helper.from_array(np.full((1, 29), np.nan, dtype=np.float32), "nan")
    weight = numpy_helper.from_array(np.zeros((994, 29), dtype=np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["obs_dict", "w"], ["m"]),
         helper.make_node("Add", ["m", "nan"], ["action"])],
        "nan_decoder",
        [helper.make_tensor_value_info("obs_dict", TensorProto.FLOAT, [1, 994])],
        [helper.make_tensor_value_info("action", TensorProto.FLOAT, [1, 29])],
        [nan, weight],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = save(model, tmp_path / "nan_decoder.onnx")
    policy = load_sonic_policy(SonicConfig(path, token_mode=True, session=CPU))
    state = make_state(3)
    policy.start(make_track(), state)
    out = RobotCommand()
    policy.step(state, 0, out)
    assert policy.last_fault is StepFault.NON_FINITE_ACTION
    assert not policy.last_step_finite
    assert not policy.last_action_isaac.any()
    assert not out.kp.any()


def test_non_finite_token_is_an_observation_fault() -> None:
    decoder = FakeSession(_decoder_specs(), value=0.1)
    policy = SonicPolicy(decoder=decoder, encoder=None)
    policy.set_token(np.full(64, np.inf))
    state = make_state(4)
    policy.start(make_track(), state)
    policy.step(state, 0, RobotCommand())
    assert policy.last_fault is StepFault.NON_FINITE_OBSERVATION
    assert decoder.runs == 0


def test_inference_error_becomes_a_fault_not_an_exception() -> None:
    policy = SonicPolicy(decoder=FakeSession(_decoder_specs(), fail=True), encoder=None)
    state = make_state(5)
    policy.start(make_track(), state)
    out = RobotCommand()
    policy.step(state, 0, out)
    assert policy.last_fault is StepFault.INFERENCE_FAILED
    assert not policy.last_step_finite
    assert not out.kp.any()
    assert policy.last_inference_ns > 0


def test_token_mode_skips_the_encoder() -> None:
    encoder = FakeSession(_encoder_specs(), value=1.0)
    decoder = FakeSession(_decoder_specs(), value=0.0)
    policy = SonicPolicy(decoder=decoder, encoder=encoder, token_mode=True)
    policy.set_token(np.full(64, 0.25))
    state = make_state(6)
    policy.start(make_track(), state)
    for tick in range(3):
        policy.step(state, tick, RobotCommand())
    assert encoder.runs == 0
    assert decoder.runs == 3
    np.testing.assert_array_equal(policy.token, np.full(64, 0.25, dtype=np.float32))


def test_encoder_token_reaches_the_decoder_and_timings_are_recorded() -> None:
    encoder = FakeSession(_encoder_specs(), value=0.75)
    policy = SonicPolicy(decoder=FakeSession(_decoder_specs()), encoder=encoder)
    state = make_state(7)
    policy.start(make_track(), state)
    policy.step(state, 0, RobotCommand())
    assert encoder.runs == 1
    np.testing.assert_array_equal(policy.token, np.full(64, 0.75, dtype=np.float32))
    assert policy.last_obs_build_ns > 0
    assert policy.last_inference_ns > 0
    assert policy.last_inference_ns >= policy.last_encoder_ns + policy.last_decoder_ns


def test_start_clears_history_and_last_action() -> None:
    policy = SonicPolicy(decoder=FakeSession(_decoder_specs(), value=0.3), encoder=None)
    state = make_state(8)
    track = make_track()
    policy.start(track, state)
    for tick in range(5):
        policy.step(state, tick, RobotCommand())
    policy.start(track, state)
    assert not policy.decoder_input.any()
    assert not policy.last_action_isaac.any()


def test_contract_is_checked_when_the_policy_is_built() -> None:
    wrong = TensorSpec("obs_dict", (1, 990), np.dtype(np.float32))
    decoder = FakeSession(((wrong,), sonic_decoder_contract().outputs))
    with pytest.raises(ModelContractError) as caught:
        SonicPolicy(decoder=decoder, encoder=None)
    assert caught.value.tensor == "obs_dict"
    assert caught.value.model == "sonic_decoder"
    assert "[1, 994]" in str(caught.value)
    assert "[1, 990]" in str(caught.value)


def test_load_sonic_policy_on_sonic_width_models(sonic_width_models: dict[str, Path]) -> None:
    """The ~10.2 M-parameter decoder and the 1762 stand-in encoder load, check and step."""
    config = SonicConfig(sonic_width_models["decoder"], sonic_width_models["encoder"], session=CPU)
    policy = load_sonic_policy(config)
    assert policy.variant is EncoderVariant.RELEASE
    state = make_state(9)
    policy.start(make_track(), state)
    out = RobotCommand()
    for tick in range(3):
        policy.step(state, tick, out)
        assert policy.last_step_finite
    assert np.isfinite(out.q).all()
    assert not np.allclose(out.q, Q_DEFAULT)
    policy.close()


def test_load_rejects_another_variant_than_configured(small_models: dict[str, Path]) -> None:
    config = SonicConfig(
        small_models["decoder"], small_models["v1.1"], variant=EncoderVariant.RELEASE, session=CPU
    )
    with pytest.raises(ModelContractError, match=r"sonic_encoder.*obs_dict.*1762.*1751"):
        load_sonic_policy(config)


def test_load_reports_a_missing_encoder_file(small_models: dict[str, Path], tmp_path: Path) -> None:
    config = SonicConfig(small_models["decoder"], tmp_path / "missing.onnx", session=CPU)
    with pytest.raises(ModelLoadError, match=r"missing\.onnx"):
        load_sonic_policy(config)


def test_config_without_encoder_requires_token_mode(small_models: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match="token_mode"):
        SonicConfig(small_models["decoder"])


def test_thousand_steps_allocate_nothing_in_our_code(small_models: dict[str, Path]) -> None:
    """After warm-up, 1000 steps leave no new memory blocks traced to models/ or
    controller/sonic/ (ONNX Runtime's own allocations are excluded)."""
    config = SonicConfig(small_models["decoder"], small_models["release"], session=CPU)
    policy = load_sonic_policy(config)
    states = [make_state(seed) for seed in range(4)]
    policy.start(make_track(frames=40), states[0])
    out = RobotCommand()

    def run(ticks: int) -> None:
        for tick in range(ticks):
            policy.step(states[tick % 4], tick % 50, out)

    ours = [  # the packages' own files (not these tests, which live under a similar path)
        tracemalloc.Filter(True, f"{Path(str(package.__file__)).parent}{os.sep}*", all_frames=True)
        for package in (controller.sonic, models)
    ]
    not_ort = [tracemalloc.Filter(False, "*onnxruntime*", all_frames=True)]
    gc.collect()
    tracemalloc.start(25)
    try:
        run(200)
        before = tracemalloc.take_snapshot().filter_traces(ours).filter_traces(not_ort)
        run(1000)
        after = tracemalloc.take_snapshot().filter_traces(ours).filter_traces(not_ort)
    finally:
        tracemalloc.stop()
    assert policy.last_step_finite
    diff = after.compare_to(before, "traceback")
    # Net over all call sites: a block freed at one traceback and one allocated at another (an
    # int attribute replaced by a new int) cancel out; a leak or a per-tick buffer does not.
    new_blocks = sum(stat.count_diff for stat in diff)
    new_bytes = sum(stat.size_diff for stat in diff)
    assert new_blocks <= 0, [str(stat) for stat in diff if stat.count_diff > 0]
    assert new_bytes <= 256, [str(stat) for stat in diff if stat.size_diff > 0]


def test_observation_build_makes_no_temporary_arrays(small_models: dict[str, Path]) -> None:
    """Peak traced memory while building observations 1000 times stays within a few small
    Python objects (ints, floats): any array temporary (>= ~300 B) would exceed the bound."""
    for variant in (EncoderVariant.RELEASE, EncoderVariant.V1_1):
        decoder = load_sonic_policy(
            SonicConfig(small_models["decoder"], small_models[variant.value], session=CPU)
        )
        states = [make_state(seed, pitch=0.1 * seed) for seed in range(4)]
        decoder.start(make_track(frames=40), states[0])
        for tick in range(50):
            decoder.build_observations(states[tick % 4], tick)
        tracemalloc.start(1)
        try:
            start, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            for tick in range(1000):
                decoder.build_observations(states[tick % 4], tick % 50)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak - start < 512, f"{variant.value}: transient peak {peak - start} B"
