"""Configuration of the SONIC policy and the one call that loads it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from controller.sonic.policy import SonicPolicy
from models import (
    EncoderVariant,
    ModelError,
    Session,
    SessionConfig,
    open_session,
)
from models.contracts import sonic_decoder_contract, sonic_encoder_contract
from models.environment import RuntimeEnvironment


@dataclass(frozen=True)
class SonicConfig:
    """Where SONIC's ONNX files are and how to run them."""

    decoder_path: Path
    """``model_decoder.onnx`` (994 -> 29)."""
    encoder_path: Path | None = None
    """``model_encoder.onnx``; None only with ``token_mode`` (tokens streamed in)."""
    variant: EncoderVariant | None = None
    """Expected encoder checkpoint; None accepts any released one (detected from its width)."""
    session: SessionConfig = field(default_factory=SessionConfig)
    """Backend, precision, threads and engine cache, shared by both models."""
    token_mode: bool = False
    """Skip the encoder; tokens come from ``SonicPolicy.set_token`` (ZMQ protocol v4)."""

    def __post_init__(self) -> None:
        if self.encoder_path is None and not self.token_mode:
            raise ValueError("SMPL tracking needs encoder_path (or token_mode for token streams)")


def load_sonic_policy(config: SonicConfig, *, env: RuntimeEnvironment | None = None) -> SonicPolicy:
    """Open both models (backend per ``config.session``), check their contracts, build the policy.

    Raises at start-up, never later: ``ModelLoadError`` (missing/corrupt file),
    ``ModelContractError`` (wrong names/shapes/dtypes, unknown encoder width, or not the
    configured ``variant``), ``BackendUnavailableError``/``GpuRequiredError``,
    ``EngineBuildError``.
    """
    opened: list[Session] = []
    try:
        decoder = open_session(
            config.decoder_path, model="sonic_decoder", config=config.session,
            contract=sonic_decoder_contract(), env=env,
        )  # fmt: skip
        opened.append(decoder)
        encoder = None
        if config.encoder_path is not None:
            contract = sonic_encoder_contract(config.variant) if config.variant else None
            encoder = open_session(
                config.encoder_path, model="sonic_encoder", config=config.session,
                contract=contract, env=env,
            )  # fmt: skip
            opened.append(encoder)
        return SonicPolicy(decoder=decoder, encoder=encoder, token_mode=config.token_mode)
    except ModelError:
        for session in opened:
            session.close()
        raise
