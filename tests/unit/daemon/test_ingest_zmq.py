"""ZeroMQ upload endpoint and client: round trips over real sockets, answers, limits, CURVE.

Real: ZeroMQ sockets (tcp on 127.0.0.1 with a free port, ipc in tmp_path), CURVE keys (key
files and a credentials folder in tmp_path) and the ZAP handler, and, for the round trips, the
real ``PackageLibrary`` (codec, validation, track builder, MuJoCo feed-forward, store in
tmp_path) with the procedural demo motion. Faked: a ``MotionLibrary`` that records submissions,
where only the protocol is under test.
"""

from __future__ import annotations

import asyncio
import dataclasses
import queue
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
import zmq
import zmq.asyncio
import zmq.auth

from daemon.cli.edge_cli import main
from daemon.inputs.ingest_zmq import (
    CurveClientKeys,
    CurveConfig,
    CurveServerKeys,
    IngestConfig,
    IngestServer,
    UploadError,
    UploadRefusedError,
    UploadTimeoutError,
    decode_answer,
    encode_answer,
    split_request,
    upload,
)
from daemon.library.motion_library import IngestResult
from daemon.library.package_library import PackageLibrary, PackageLibraryConfig
from daemon.library.package_store import PackageStore, PackageStoreConfig
from daemon.system.curve import CurveKeyError, generate_keypair
from estimators.demo_motion import make_demo_motion
from estimators.package import HandsFormat, encode_package
from estimators.track import ReferenceTrack

T = TypeVar("T")
ANY_PORT = "tcp://127.0.0.1:*"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, timeout=30))


def demo_wire(package_id: str = "demo-pick-box") -> bytes:
    package = make_demo_motion(duration_s=1.0, hands_format=HandsFormat.STATES)
    meta = package.meta.model_copy(update={"package_id": package_id})
    return encode_package(dataclasses.replace(package, meta=meta))


def real_library(tmp_path: Path) -> PackageLibrary:
    store = PackageStore(PackageStoreConfig(root=tmp_path / "store"))
    return PackageLibrary(store=store, config=PackageLibraryConfig())


class RecordingLibrary:
    """A ``MotionLibrary`` that accepts everything and remembers what it got."""

    def __init__(self, *, delay_s: float = 0.0, fail: bool = False) -> None:
        self.received: list[tuple[bytes, str]] = []
        self.started = asyncio.Event()
        self._delay_s = delay_s
        self._fail = fail

    async def submit(self, data: bytes, *, source: str) -> IngestResult:
        self.started.set()
        await asyncio.sleep(self._delay_s)
        if self._fail:
            raise RuntimeError("a bug in validation")
        self.received.append((data, source))
        return IngestResult(accepted=True, package_id=f"p{len(self.received)}")

    async def track(self, package_id: str) -> ReferenceTrack:
        raise NotImplementedError

    def package_ids(self) -> list[str]:
        return [f"p{i + 1}" for i in range(len(self.received))]


# ---------------------------------------------------------------------- sans-I/O


@pytest.mark.parametrize(
    "result",
    [
        IngestResult(accepted=True, package_id="demo"),
        IngestResult(accepted=False, code="non_finite", field="arrays.transl", detail="NaN"),
        IngestResult(accepted=False, code="store_full", field=None, detail="pinned"),
    ],
)
def test_answers_round_trip(result: IngestResult) -> None:
    assert decode_answer(encode_answer(result)) == result


def test_answer_wire_format_is_the_documented_json() -> None:
    assert encode_answer(IngestResult(accepted=True, package_id="x")) == (
        b'{"accepted":true,"package_id":"x"}'
    )
    rejected = IngestResult(accepted=False, code="bad_shape", field="arrays.x", detail="d")
    assert encode_answer(rejected) == (
        b'{"accepted":false,"code":"bad_shape","field":"arrays.x","detail":"d"}'
    )


@pytest.mark.parametrize(
    "answer",
    [b"not json", b"[]", b'{"accepted": "yes"}', b'{"accepted": true}', b'{"accepted": false}'],
)
def test_bad_answers_raise_upload_error(answer: bytes) -> None:
    with pytest.raises(UploadError):
        decode_answer(answer, endpoint="tcp://x:1")


def test_split_request_accepts_dealer_and_bare_envelopes() -> None:
    assert split_request([b"id", b"", b"pkg"]) == ([b"id", b""], b"pkg")
    assert split_request([b"id", b"pkg"]) == ([b"id"], b"pkg")
    assert split_request([b"id", b"", b"a", b"b"]) == ([b"id", b""], None)
    assert split_request([b"id", b""]) == ([b"id", b""], None)


def test_config_refuses_unknown_transports() -> None:
    with pytest.raises(ValueError, match="endpoint"):
        IngestConfig(endpoints=("udp://127.0.0.1:5560",))
    with pytest.raises(ValueError, match="at least one"):
        IngestConfig(endpoints=())


# ---------------------------------------------------------------------- real sockets


def test_demo_package_round_trip_over_tcp(tmp_path: Path) -> None:
    library = real_library(tmp_path)

    async def scenario() -> IngestResult:
        config = IngestConfig(endpoints=(ANY_PORT,))
        async with IngestServer(library=library, config=config) as server:
            (endpoint,) = server.bound_endpoints
            assert endpoint.startswith("tcp://127.0.0.1:")
            assert not endpoint.endswith(":*")
            return await upload(endpoint, demo_wire(), timeout_s=20)

    assert run(scenario()) == IngestResult(accepted=True, package_id="demo-pick-box")
    assert library.package_ids() == ["demo-pick-box"]
    assert (tmp_path / "store" / "demo-pick-box.pkg").is_file()


def test_round_trip_over_ipc_and_tcp_at_once(tmp_path: Path) -> None:
    ipc = f"ipc://{tmp_path}/ingest.sock"
    library = real_library(tmp_path)

    async def scenario() -> list[IngestResult]:
        config = IngestConfig(endpoints=(ANY_PORT, ipc))
        async with IngestServer(library=library, config=config) as server:
            tcp, bound_ipc = server.bound_endpoints
            assert bound_ipc == ipc
            return [
                await upload(ipc, demo_wire("via-ipc"), timeout_s=20),
                await upload(tcp, demo_wire("via-tcp"), timeout_s=20),
            ]

    assert [r.package_id for r in run(scenario())] == ["via-ipc", "via-tcp"]
    assert sorted(library.package_ids()) == ["via-ipc", "via-tcp"]


def test_bad_uploads_are_answered_with_codes_and_store_nothing(tmp_path: Path) -> None:
    library = real_library(tmp_path)
    corrupted = bytearray(demo_wire())
    corrupted[len(corrupted) // 2] ^= 0xFF

    async def scenario() -> list[IngestResult]:
        config = IngestConfig(endpoints=(ANY_PORT,))
        async with IngestServer(library=library, config=config) as server:
            endpoint = server.bound_endpoints[0]
            return [
                await upload(endpoint, b"\x00garbage", timeout_s=20),
                await upload(endpoint, bytes(corrupted), timeout_s=20),
            ]

    garbage, flipped = run(scenario())
    assert (garbage.accepted, garbage.code, garbage.field) == (False, "malformed", "message")
    assert (flipped.accepted, flipped.code) == (False, "digest_mismatch")
    assert library.package_ids() == []


def test_req_client_and_malformed_envelopes_get_answers() -> None:
    library = RecordingLibrary()

    async def scenario() -> tuple[list[bytes], list[bytes]]:
        config = IngestConfig(endpoints=(ANY_PORT,))
        async with IngestServer(library=library, config=config) as server:
            endpoint = server.bound_endpoints[0]
            ctx = zmq.asyncio.Context()
            req, dealer = ctx.socket(zmq.REQ), ctx.socket(zmq.DEALER)
            try:
                for sock in (req, dealer):
                    sock.setsockopt(zmq.LINGER, 0)
                    sock.connect(endpoint)
                await req.send(b"package bytes")
                req_answer = await asyncio.wait_for(req.recv_multipart(), 10)
                await dealer.send_multipart([b"", b"part 1", b"part 2"])
                bad_answer = await asyncio.wait_for(dealer.recv_multipart(), 10)
            finally:
                req.close()
                dealer.close()
                ctx.term()
            return req_answer, bad_answer

    req_answer, bad_answer = run(scenario())
    assert decode_answer(req_answer[-1]).accepted
    assert library.received == [(b"package bytes", "zmq")]
    malformed = decode_answer(bad_answer[-1])
    assert (malformed.accepted, malformed.code) == (False, "malformed")


def test_oversized_upload_is_dropped_by_maxmsgsize_and_the_server_survives() -> None:
    library = RecordingLibrary()

    async def scenario() -> IngestResult:
        config = IngestConfig(endpoints=(ANY_PORT,), max_message_bytes=4096)
        async with IngestServer(library=library, config=config) as server:
            endpoint = server.bound_endpoints[0]
            with pytest.raises(UploadTimeoutError) as caught:
                await upload(endpoint, b"x" * 100_000, timeout_s=0.5)
            assert "max_message_bytes" in str(caught.value)
            return await upload(endpoint, b"small", timeout_s=10)

    assert run(scenario()).accepted
    assert library.received == [(b"small", "zmq")]


def test_concurrent_clients_each_get_their_own_answer() -> None:
    library = RecordingLibrary(delay_s=0.05)

    async def scenario() -> list[IngestResult]:
        config = IngestConfig(endpoints=(ANY_PORT,), max_in_flight=2)
        async with IngestServer(library=library, config=config) as server:
            endpoint = server.bound_endpoints[0]
            return await asyncio.gather(
                *(upload(endpoint, f"pkg {i}".encode(), timeout_s=10) for i in range(6))
            )

    results = run(scenario())
    assert all(r.accepted for r in results)
    assert sorted(r.package_id or "" for r in results) == [f"p{i}" for i in range(1, 7)]


def test_an_unexpected_library_error_is_answered_not_fatal() -> None:
    async def scenario() -> IngestResult:
        config = IngestConfig(endpoints=(ANY_PORT,))
        async with IngestServer(library=RecordingLibrary(fail=True), config=config) as server:
            return await upload(server.bound_endpoints[0], b"pkg", timeout_s=10)

    result = run(scenario())
    assert (result.accepted, result.code) == (False, "internal_error")


def test_no_server_means_a_timeout_error() -> None:
    async def scenario() -> None:
        await upload("tcp://127.0.0.1:9", b"pkg", timeout_s=0.3)

    with pytest.raises(UploadTimeoutError):
        run(scenario())


def test_exit_lets_an_upload_in_progress_finish_and_be_answered() -> None:
    library = RecordingLibrary(delay_s=0.3)

    async def scenario() -> IngestResult:
        config = IngestConfig(endpoints=(ANY_PORT,), shutdown_grace_s=5.0)
        async with IngestServer(library=library, config=config) as server:
            pending = asyncio.create_task(upload(server.bound_endpoints[0], b"pkg", 2.0))
            await library.started.wait()
        # The server has closed while the upload was being stored; it answered first.
        return await pending

    assert run(scenario()).accepted


# ---------------------------------------------------------------------- CURVE


def curve_pair() -> tuple[bytes, bytes]:
    public, secret = zmq.curve_keypair()
    return public, secret


def curve_server(tmp_path: Path, *allowed: bytes) -> tuple[CurveConfig, bytes]:
    """A CURVE config whose secret key is a zmq.auth certificate in tmp_path; its public key."""
    public_file, secret_file = generate_keypair(tmp_path / "server", "robot")
    public, _ = zmq.auth.load_certificate(public_file)
    config = CurveConfig(
        secret_key_file=secret_file, authorized_keys=tuple(k.decode() for k in allowed)
    )
    return config, public


def test_curve_admits_an_allowed_key_and_refuses_a_stranger_and_plain_text(
    tmp_path: Path,
) -> None:
    known_public, known_secret = curve_pair()
    stranger_public, stranger_secret = curve_pair()
    curve, server_public = curve_server(tmp_path, known_public)
    library = RecordingLibrary()

    async def scenario() -> IngestResult:
        config = IngestConfig(endpoints=(ANY_PORT,), curve=curve)
        async with IngestServer(library=library, config=config) as server:
            endpoint = server.bound_endpoints[0]
            known = CurveClientKeys(server_public, known_public, known_secret)
            stranger = CurveClientKeys(server_public, stranger_public, stranger_secret)
            with pytest.raises(UploadRefusedError, match="allow-list"):
                await upload(endpoint, b"from a stranger", timeout_s=10, curve=stranger)
            with pytest.raises(UploadRefusedError, match="handshake"):
                await upload(endpoint, b"plain", timeout_s=10)
            return await upload(endpoint, b"from a friend", timeout_s=10, curve=known)

    assert run(scenario()).accepted
    assert library.received == [(b"from a friend", "zmq")]


def test_curve_secret_key_comes_from_a_systemd_credential(tmp_path: Path) -> None:
    client_public, client_secret = curve_pair()
    server_public, server_secret = curve_pair()
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "zmq-curve-secret").write_bytes(server_secret + b"\n")
    curve = CurveConfig(
        secret_key_credential="zmq-curve-secret", authorized_keys=(client_public.decode(),)
    )

    async def scenario() -> IngestResult:
        config = IngestConfig(endpoints=(ANY_PORT,), curve=curve)
        environ = {"CREDENTIALS_DIRECTORY": str(credentials)}
        async with IngestServer(
            library=RecordingLibrary(), config=config, environ=environ
        ) as server:
            client = CurveClientKeys(server_public, client_public, client_secret)
            return await upload(server.bound_endpoints[0], b"pkg", timeout_s=10, curve=client)

    assert run(scenario()).accepted


def test_a_missing_curve_secret_key_stops_the_server_before_it_binds(tmp_path: Path) -> None:
    curve = CurveConfig(
        secret_key_credential="zmq-curve-secret", authorized_keys=(curve_pair()[0].decode(),)
    )

    async def scenario() -> None:
        config = IngestConfig(endpoints=(ANY_PORT,), curve=curve)
        async with IngestServer(library=RecordingLibrary(), config=config, environ={}):
            pass

    with pytest.raises(CurveKeyError, match="CREDENTIALS_DIRECTORY") as caught:
        run(scenario())
    assert caught.value.source == "credential:zmq-curve-secret"


def test_curve_keys_are_validated() -> None:
    with pytest.raises(ValueError, match="40 z85"):
        CurveServerKeys(public_key=b"short", secret_key=b"short")


def test_the_send_command_uploads_with_curve_keys_and_reports_a_refusal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`exoactor-edge send --curve-key --server-key`: an allowed key uploads, another is refused."""
    client_public_file, client_secret_file = generate_keypair(tmp_path / "client", "laptop")
    _, stranger_secret_file = generate_keypair(tmp_path / "client", "stranger")
    client_public, _ = zmq.auth.load_certificate(client_public_file)
    curve, _ = curve_server(tmp_path, client_public)
    server_public_file = tmp_path / "server" / "robot.key"
    package = tmp_path / "demo.pkg"
    package.write_bytes(b"pkg")
    library = RecordingLibrary()
    ready: queue.Queue[str] = queue.Queue()
    stop = threading.Event()

    async def serve() -> None:
        config = IngestConfig(endpoints=(ANY_PORT,), curve=curve)
        async with IngestServer(library=library, config=config) as server:
            ready.put(server.bound_endpoints[0])
            await asyncio.to_thread(stop.wait)

    thread = threading.Thread(target=lambda: asyncio.run(serve()))
    thread.start()
    try:
        endpoint = ready.get(timeout=10)
        base = ["send", str(package), "--endpoint", endpoint, "--server-key"]
        base.append(str(server_public_file))
        assert main([*base, "--curve-key", str(client_secret_file)]) == 0
        assert "accepted: p1" in capsys.readouterr().out
        assert main([*base, "--curve-key", str(stranger_secret_file)]) == 1
        assert "refused this client's CURVE key" in capsys.readouterr().err
        assert main(["send", str(package), "--endpoint", endpoint, "--server-key", "x"]) == 2
    finally:
        stop.set()
        thread.join(10)
    assert library.received == [(b"pkg", "zmq")]
