"""CURVE configuration, key files and the SONIC stream SUB as a CURVE server.

Real: ZeroMQ sockets on tcp loopback with CURVE and pyzmq's ZAP authenticator, ``zmq.auth``
certificate files and key files in tmp_path, the daemon's configuration loader on TOML text,
socket monitor events (how a refused peer learns of its refusal). Nothing is faked. The upload
ROUTER's CURVE round trips are in ``test_ingest_zmq.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
import zmq
import zmq.asyncio
import zmq.auth
from zmq.utils.monitor import parse_monitor_message

from daemon.config import ConfigError, load_config
from daemon.inputs.stream_config import StreamingConfig
from daemon.inputs.stream_messages import PoseMessage, pack_pose_message
from daemon.inputs.stream_subscriber import Pose, StreamReceiver
from daemon.system.curve import (
    CurveClientKeys,
    CurveConfig,
    CurveConfigError,
    CurveKeyError,
    CurveServerKeys,
    apply_client_keys,
    generate_keypair,
    load_server_keys,
    read_key_pair,
    read_public_key,
)
from tests.support.sonic_producer import publish_until, v1_fields

T = TypeVar("T")
SOME_KEY = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
HANDSHAKE_EVENTS = (
    zmq.EVENT_HANDSHAKE_SUCCEEDED
    | zmq.EVENT_HANDSHAKE_FAILED_AUTH
    | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
    | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, timeout=20))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "edge.toml"
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------- configuration


def test_an_inline_secret_key_is_refused_by_config_validation(tmp_path: Path) -> None:
    _, secret = zmq.curve_keypair()
    path = write(
        tmp_path,
        f'[ingest.curve]\nsecret_key = "{secret.decode()}"\n'
        f'secret_key_credential = "zmq-curve-secret"\nauthorized_keys = ["{SOME_KEY}"]\n',
    )
    with pytest.raises(ConfigError, match="inline secret key is refused") as caught:
        load_config(path, required=True)
    assert caught.value.key == "ingest.curve"
    assert secret.decode() not in str(caught.value)


def test_a_key_pasted_where_its_file_belongs_is_refused(tmp_path: Path) -> None:
    _, secret = zmq.curve_keypair()
    path = write(
        tmp_path,
        f'[streaming]\nendpoint = "tcp://127.0.0.1:5556"\n[streaming.curve]\n'
        f'secret_key_file = "{secret.decode()}"\nauthorized_keys = ["{SOME_KEY}"]\n',
    )
    with pytest.raises(ConfigError, match="looks like the key itself") as caught:
        load_config(path, required=True)
    assert caught.value.key == "streaming.curve"


def test_curve_references_load_from_toml(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[ingest.curve]\nsecret_key_credential = "zmq-curve-secret"\n'
        f'authorized_keys = ["{SOME_KEY}"]\nauthorized_keys_dir = "/etc/exoactor/zmq-clients"\n',
    )
    curve = load_config(path, required=True).ingest.curve
    assert curve == CurveConfig(
        secret_key_credential="zmq-curve-secret",
        authorized_keys=(SOME_KEY,),
        authorized_keys_dir=Path("/etc/exoactor/zmq-clients"),
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"authorized_keys": (SOME_KEY,)}, "secret_key_file"),
        (
            {
                "secret_key_file": Path("/k"),
                "secret_key_credential": "k",
                "authorized_keys": (SOME_KEY,),
            },
            "secret_key_file",
        ),
        ({"secret_key_credential": "a/b", "authorized_keys": (SOME_KEY,)}, "secret_key_credential"),
        ({"secret_key_credential": "k", "authorized_keys": ("short",)}, "authorized_keys"),
        ({"secret_key_credential": "k"}, "authorized_keys"),
    ],
)
def test_malformed_curve_settings_name_their_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(CurveConfigError) as caught:
        CurveConfig(**kwargs)
    assert caught.value.field == field


def test_loaded_keys_never_show_the_secret() -> None:
    public, secret = zmq.curve_keypair()
    server = CurveServerKeys(public, secret, frozenset({public}))
    client = CurveClientKeys(public, public, secret)
    assert secret.decode() not in repr(server)
    assert secret.decode() not in repr(client)


# ---------------------------------------------------------------------- key files


def test_keygen_writes_a_private_secret_and_a_shareable_public_certificate(
    tmp_path: Path,
) -> None:
    public_file, secret_file = generate_keypair(tmp_path / "keys", "robot")
    assert public_file.stat().st_mode & 0o777 == 0o644
    assert secret_file.stat().st_mode & 0o777 == 0o600
    public, secret = read_key_pair(secret_file)
    assert zmq.curve_public(secret) == public
    assert read_public_key(str(public_file)) == public
    with pytest.raises(CurveKeyError, match="never overwritten"):
        generate_keypair(tmp_path / "keys", "robot")


def test_a_bare_z85_secret_key_file_works_and_derives_its_public_key(tmp_path: Path) -> None:
    public, secret = zmq.curve_keypair()
    path = tmp_path / "zmq-curve-secret"
    path.write_bytes(secret + b"\n")
    assert read_key_pair(path) == (public, secret)


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (None, "does not exist"),
        (b"hello", "neither a z85 secret key nor a zmq certificate"),
        (b"public", "the server needs the .key_secret file"),
    ],
)
def test_unusable_secret_key_files_are_refused_without_showing_content(
    tmp_path: Path, content: bytes | None, detail: str
) -> None:
    path = tmp_path / "key"
    if content == b"public":
        path = generate_keypair(tmp_path, "other")[0]
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(CurveKeyError, match=detail) as caught:
        read_key_pair(path)
    assert caught.value.source == str(path)


def test_the_allow_list_joins_inline_keys_and_a_folder_of_certificates(tmp_path: Path) -> None:
    _, server_secret_file = generate_keypair(tmp_path / "server", "robot")
    folder = tmp_path / "clients"
    first, _ = generate_keypair(folder, "operator-laptop")
    second, _ = generate_keypair(folder, "genmo-server")
    config = CurveConfig(
        secret_key_file=server_secret_file, authorized_keys=(SOME_KEY,), authorized_keys_dir=folder
    )
    keys = load_server_keys(config, {})
    expected = {SOME_KEY.encode(), read_public_key(str(first)), read_public_key(str(second))}
    assert keys.authorized_clients == frozenset(expected)


def test_an_empty_allow_list_folder_is_an_error_not_an_open_door(tmp_path: Path) -> None:
    _, server_secret_file = generate_keypair(tmp_path / "server", "robot")
    (tmp_path / "empty").mkdir()
    config = CurveConfig(secret_key_file=server_secret_file, authorized_keys_dir=tmp_path / "empty")
    with pytest.raises(CurveKeyError, match="nobody could connect"):
        load_server_keys(config, {})


# ---------------------------------------------------------------------- SONIC stream SUB


async def handshake_outcome(monitor: zmq.asyncio.Socket) -> int:
    """The first handshake event a monitor reports (success or one of the failures)."""
    while True:
        event = int(parse_monitor_message(await monitor.recv_multipart())["event"])
        if event & HANDSHAKE_EVENTS:
            return event


def stream_with_producer(
    tmp_path: Path, producer_keys: tuple[bytes, bytes] | None, allowed: bytes
) -> tuple[int, list[PoseMessage]]:
    """A CURVE SONIC subscriber and one producer; (producer's handshake event, received)."""
    server_public_file, server_secret_file = generate_keypair(tmp_path / "robot", "robot")
    server_public = read_public_key(str(server_public_file))
    received: list[PoseMessage] = []

    async def scenario() -> int:
        ctx = zmq.asyncio.Context()
        pub = ctx.socket(zmq.PUB)
        pub.setsockopt(zmq.LINGER, 0)
        if producer_keys is not None:
            apply_client_keys(pub, CurveClientKeys(server_public, *producer_keys))
        monitor = pub.get_monitor_socket(HANDSHAKE_EVENTS)
        try:
            port = pub.bind_to_random_port("tcp://127.0.0.1")
            curve = CurveConfig(
                secret_key_file=server_secret_file, authorized_keys=(allowed.decode(),)
            )
            config = StreamingConfig(endpoint=f"tcp://127.0.0.1:{port}", curve=curve)
            receiver = StreamReceiver(config=config)
            receiver.open()

            def take() -> bool:
                if receiver.poll(0):
                    got = receiver.receive()
                    if isinstance(got, Pose):
                        received.append(got.message)
                return bool(received)

            try:
                outcome = await handshake_outcome(monitor)
                if outcome == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                    await publish_until(pub, pack_pose_message(1, v1_fields(2)), take)
            finally:
                receiver.close()
            return outcome
        finally:
            pub.disable_monitor()
            monitor.close(0)
            pub.close(0)
            ctx.term()

    return run(scenario()), received


def test_an_allowed_producer_streams_into_a_curve_subscriber(tmp_path: Path) -> None:
    public, secret = zmq.curve_keypair()
    outcome, received = stream_with_producer(tmp_path, (public, secret), allowed=public)
    assert outcome == zmq.EVENT_HANDSHAKE_SUCCEEDED
    assert received[0].version == 1


def test_a_producer_with_an_unknown_key_is_refused_in_the_handshake(tmp_path: Path) -> None:
    allowed, _ = zmq.curve_keypair()
    outcome, received = stream_with_producer(tmp_path, zmq.curve_keypair(), allowed=allowed)
    assert outcome == zmq.EVENT_HANDSHAKE_FAILED_AUTH
    assert received == []


def test_a_plaintext_producer_is_refused_in_the_handshake(tmp_path: Path) -> None:
    allowed, _ = zmq.curve_keypair()
    outcome, received = stream_with_producer(tmp_path, None, allowed=allowed)
    assert outcome in (zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL)
    assert received == []
