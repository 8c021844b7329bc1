"""Credentials and configuration of the generation stage.

Real: files in tmp_path standing for credential files and systemd's $CREDENTIALS_DIRECTORY;
the frozen config dataclasses and their validation; pydantic validating them from TOML-like
dicts the way ``daemon.config`` does for its other sections. Nothing is faked.
"""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from daemon.config import masked
from daemon.generation.config import CredentialRef, GenerationConfig, KlingConfig, KlingMode
from daemon.generation.credentials import Secret, read_credential, scrub
from daemon.generation.errors import CredentialError, ErrorKind
from daemon.generation.progress import Stage


def test_a_secret_never_shows_its_value() -> None:
    secret = Secret("gemini-api-key", "AIza-top-secret")
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", format(secret)):
        assert "AIza-top-secret" not in text
        assert "***" in text
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(secret)
    assert secret.reveal() == "AIza-top-secret"
    assert scrub("key=AIza-top-secret!", [secret]) == "key=***!"


def test_secret_in_a_log_record_shows_masked(caplog: pytest.LogCaptureFixture) -> None:
    secret = Secret("openai-api-key", "sk-do-not-print")
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").debug("using %s / %r", secret, secret)
    assert "sk-do-not-print" not in caplog.text


def test_credentials_are_read_from_a_file_or_the_systemd_directory(tmp_path: Path) -> None:
    (tmp_path / "kling-secret-key").write_text("  sk-kling \n")
    direct = read_credential(
        CredentialRef(file=tmp_path / "kling-secret-key"),
        credentials_dir=None,
        stage=Stage.VIDEO,
        name="kling-secret-key",
    )
    assert direct.reveal() == "sk-kling"
    systemd = read_credential(
        CredentialRef(credential="kling-secret-key"),
        credentials_dir=tmp_path,
        stage=Stage.VIDEO,
        name="k",
    )
    assert systemd.reveal() == "sk-kling"


@pytest.mark.parametrize(
    ("setup", "ref", "directory", "message"),
    [
        ("", CredentialRef(credential="gemini-api-key"), False, "no CREDENTIALS_DIRECTORY"),
        ("", CredentialRef(credential="gemini-api-key"), True, "does not exist"),
        ("   \n", CredentialRef(credential="gemini-api-key"), True, "is empty"),
    ],
)
def test_missing_or_empty_credentials_name_the_place_and_the_stage(
    tmp_path: Path, setup: str, ref: CredentialRef, directory: bool, message: str
) -> None:
    if setup:
        (tmp_path / "gemini-api-key").write_text(setup)
    with pytest.raises(CredentialError, match=message) as info:
        read_credential(
            ref,
            credentials_dir=tmp_path if directory else None,
            stage=Stage.EMBODIMENT,
            name="gemini-api-key",
        )
    assert (info.value.stage, info.value.kind) == (Stage.EMBODIMENT, ErrorKind.CREDENTIALS)


def test_a_world_readable_credential_file_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "key"
    path.write_text("value-123")
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        read_credential(CredentialRef(file=path), credentials_dir=None, stage=Stage.VIDEO, name="k")
    assert "readable by every user" in caplog.text
    assert "value-123" not in caplog.text


def test_a_credential_reference_names_exactly_one_place() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        CredentialRef()
    with pytest.raises(ValueError, match="exactly one"):
        CredentialRef(file=Path("/a"), credential="b")
    with pytest.raises(ValueError, match="plain file name"):
        CredentialRef(credential="../etc/passwd")


def test_kling_options_are_checked() -> None:
    with pytest.raises(ValueError, match="duration_s"):
        KlingConfig(duration_s=7)
    with pytest.raises(ValueError, match="token_refresh_margin_s"):
        KlingConfig(token_ttl_s=100, token_refresh_margin_s=100)


def test_the_config_validates_from_toml_values_and_masks_nothing_it_should_show() -> None:
    values = {
        "jobs_dir": "/var/lib/x/gen",
        "kling": {
            "mode": "pro",
            "duration_s": 10,
            "secret_key_credential": {"file": "/etc/exoactor/kling.key"},
        },
        "camera": {"source": "sim", "image_format": "png"},
    }
    config = TypeAdapter(GenerationConfig).validate_python(values)
    assert config.kling.mode is KlingMode.PRO
    assert config.kling.secret_key_credential == CredentialRef(file=Path("/etc/exoactor/kling.key"))
    dumped = masked(TypeAdapter(GenerationConfig).dump_python(config, mode="json"))
    assert dumped["kling"]["secret_key_credential"]["file"] == "/etc/exoactor/kling.key"
    assert dumped["gemini"]["api_key_credential"]["credential"] == "gemini-api-key"
