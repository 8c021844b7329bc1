"""Message encoding for the control IPC: msgpack maps; arrays as dtype + shape + raw bytes.

Decoding arrays is zero-copy (``np.frombuffer`` over the received bytes), so a multi-megabyte
reference track costs the control process about a millisecond between ticks.
"""

from __future__ import annotations

from typing import Any

import msgpack
import numpy as np
import numpy.typing as npt

from estimators.track import ReferenceTrack

_TRACK_ARRAYS = ("q_hw", "hand_q", "hand_state", "smpl_joints_local", "root_quat_wxyz", "dq_hw",
                 "tau_ff_hw")  # fmt: skip
_ALLOWED_DTYPES = frozenset({"<f8", "<f4", "|i1", "<i4", "<i8"})


class WireError(ValueError):
    """A malformed IPC message (never expected between our own processes; still checked)."""


def pack(message: dict[str, Any]) -> bytes:
    return msgpack.packb(message, use_bin_type=True)  # type: ignore[no-any-return]


def unpack(data: bytes) -> dict[str, Any]:
    try:
        message = msgpack.unpackb(data, raw=False)
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise WireError(f"undecodable message: {exc}") from None
    if not isinstance(message, dict) or not isinstance(message.get("kind"), str):
        raise WireError("message is not a map with a 'kind'")
    return message


def encode_array(array: npt.NDArray[Any]) -> dict[str, Any]:
    contiguous = np.ascontiguousarray(array)
    return {
        "dtype": contiguous.dtype.str,
        "shape": list(contiguous.shape),
        "data": contiguous.tobytes(),
    }


def decode_array(obj: Any) -> npt.NDArray[Any]:
    try:
        dtype, shape, data = obj["dtype"], tuple(obj["shape"]), obj["data"]
    except (TypeError, KeyError) as exc:
        raise WireError(f"array field malformed: {exc}") from None
    if dtype not in _ALLOWED_DTYPES:
        raise WireError(f"array dtype {dtype!r} not allowed")
    array = np.frombuffer(data, dtype=np.dtype(dtype))
    try:
        return array.reshape(shape)
    except ValueError:
        raise WireError(f"array of {array.size} elements does not fit shape {shape}") from None


def encode_track(track: ReferenceTrack) -> dict[str, Any]:
    arrays = {
        name: encode_array(getattr(track, name))
        for name in _TRACK_ARRAYS
        if getattr(track, name) is not None
    }
    return {"package_id": track.package_id, "arrays": arrays}


def decode_track(obj: Any) -> ReferenceTrack:
    """Rebuild a track; shape and finiteness are re-validated by ``ReferenceTrack`` itself."""
    try:
        arrays = {name: decode_array(value) for name, value in obj["arrays"].items()}
        package_id = str(obj["package_id"])
    except (TypeError, KeyError, AttributeError) as exc:
        raise WireError(f"track message malformed: {exc}") from None
    unknown = set(arrays) - set(_TRACK_ARRAYS)
    if unknown:
        raise WireError(f"track message has unknown arrays {sorted(unknown)}")
    try:
        return ReferenceTrack(package_id=package_id, **arrays)
    except TypeError as exc:
        raise WireError(f"track message incomplete: {exc}") from None
