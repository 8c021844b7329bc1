"""Reading GENMO's result files (``.pt``, ``.npz``, ``.npy``) safely, into plain numpy arrays.

GENMO saves ``smpl_params.pt`` with ``torch.save``; people also convert it to ``.npz``
(``np.savez(**arrays)``) or ``.npy`` (``np.save(path, result_dict)``, a pickled dict). The
format is taken from the content, not the name (``PK`` zip: ``.npz`` or torch's zip;
``\\x93NUMPY``: ``.npy``; a bare pickle: torch's legacy format), so a renamed file still reads.

Nothing in a file can run code: ``.pt`` goes through ``torch.load(weights_only=True)`` with an
allow-list for numpy arrays, pickled ``.npy`` data and object members of ``.npz`` archives
through ``estimators.safe_pickle``. Every way a file can be wrong (missing, empty, truncated,
garbage, unsafe, not a dict) ends in one ``GenmoImportError`` with a stable code and a one-line
detail; nothing else escapes ``read_genmo_file``.
"""

from __future__ import annotations

import io
import pickle
import struct
import tokenize
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from estimators.errors import GenmoErrorCode, GenmoImportError, OptionalDependencyError
from estimators.safe_pickle import NUMPY_SAFE_GLOBALS, UnsafePickleError, loads_data

MAX_FILE_BYTES = 1 << 30
"""GENMO results are a few MB (1 h at 30 fps is ~40 MB of float32); larger is refused."""

Code = GenmoErrorCode
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_NPY_MAGIC = b"\x93NUMPY"
# What numpy, zipfile, zlib, pickle and torch raise on damaged input, as found by fuzzing
# truncated and bit-flipped files (tests/unit/estimators/test_genmo_import.py): numpy parses the
# .npy header with ast (SyntaxError, TokenError), zipfile refuses unknown versions
# (NotImplementedError, a RuntimeError), torch reports broken archives as RuntimeError.
_DAMAGED = (
    ValueError,
    EOFError,
    OSError,
    LookupError,
    TypeError,
    AttributeError,
    OverflowError,
    MemoryError,
    RuntimeError,
    SyntaxError,
    tokenize.TokenError,
    struct.error,
    zlib.error,
    zipfile.BadZipFile,
    pickle.UnpicklingError,
)


def read_genmo_file(path: Path) -> tuple[dict[str, Any], bytes]:
    """The file's top-level mapping (values numpy arrays, numbers or nested mappings) and its
    raw bytes (for a digest).

    Raises:
        GenmoImportError: every way the file can be unusable (see the module docstring).
        OptionalDependencyError: a ``.pt`` file and no torch installed.
    """
    source = path.name or str(path)
    data = read_bytes(path, source)
    if data.startswith(_ZIP_MAGIC):
        names = _zip_names(data, source)
        if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
            top = _load_torch(data, source)
        else:
            top = _load_npz(data, source)
    elif data.startswith(_NPY_MAGIC):
        top = _load_npy(data, source)
    elif data[:1] == b"\x80" and path.suffix.lower() in (".pt", ".pth"):
        top = _load_torch(data, source)  # torch's legacy (pre-1.6) format: a bare pickle
    else:
        kind = {".npz": "a zip archive (.npz)", ".npy": "an .npy file", ".pt": "a torch file",
                ".pth": "a torch file"}.get(path.suffix.lower())  # fmt: skip
        if kind is None:
            raise GenmoImportError(
                Code.UNKNOWN_FORMAT, source, "expected GENMO output as .pt, .npz or .npy"
            )
        raise GenmoImportError(
            Code.CORRUPT, source, f"not {kind}: starts with {data[:8]!r}, damaged or mislabelled"
        )
    return _as_numpy_tree(top, source, depth=0), data


def read_bytes(path: Path, source: str) -> bytes:
    """The whole file, or ``UNREADABLE`` / ``EMPTY_FILE`` / ``TOO_LARGE``."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise GenmoImportError(Code.TOO_LARGE, source, f"{size} bytes > limit {MAX_FILE_BYTES}")
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise GenmoImportError(Code.UNREADABLE, source, f"cannot read: {reason}") from None
    if not data:
        raise GenmoImportError(Code.EMPTY_FILE, source, "the file is empty (0 bytes)")
    return data


def _zip_names(data: bytes, source: str) -> list[str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist()
    except _DAMAGED as exc:
        raise _damaged(source, "zip archive", exc) from None


def _damaged(source: str, what: str, exc: BaseException) -> GenmoImportError:
    text = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
    return GenmoImportError(Code.CORRUPT, source, f"damaged {what} (truncated?): {text}")


def _load_npz(data: bytes, source: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                member = archive.read(info)
                out[info.filename[: -len(".npy")]] = _load_npy(member, f"{source}:{info.filename}")
    except GenmoImportError:
        raise
    except _DAMAGED as exc:
        raise _damaged(source, ".npz archive", exc) from None
    if not out:
        raise GenmoImportError(Code.NOT_A_DICT, source, "the .npz archive holds no arrays")
    return out


def _load_npy(data: bytes, source: str) -> Any:
    """A numeric array as is; an object array (``np.save`` of a dict) via the safe unpickler."""
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        _, _, dtype = _read_header(stream, version)
        if not dtype.hasobject:
            stream.seek(0)
            return np.lib.format.read_array(stream, allow_pickle=False)
        value = loads_data(data[stream.tell() :])
    except UnsafePickleError as exc:
        raise GenmoImportError(Code.UNSAFE_CONTENT, source, str(exc)) from None
    except _DAMAGED as exc:
        raise _damaged(source, ".npy data", exc) from None
    if isinstance(value, np.ndarray) and value.dtype.hasobject and value.shape == ():
        return value.item()  # np.save(path, a_dict) wraps the dict in a 0-d object array
    return value


def _read_header(stream: io.BytesIO, version: tuple[int, int]) -> tuple[Any, bool, np.dtype[Any]]:
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(stream)
    return np.lib.format.read_array_header_2_0(stream)


def _load_torch(data: bytes, source: str) -> Any:
    try:
        import torch  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise OptionalDependencyError("torch", "reading GENMO .pt files") from exc
    safe_globals = getattr(torch.serialization, "safe_globals", None)
    if safe_globals is None:  # torch < 2.5: weights_only without an allow-list
        raise OptionalDependencyError("torch>=2.5", "reading .pt files safely")
    try:
        with safe_globals(NUMPY_SAFE_GLOBALS):
            return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        if "Unsupported global" in text or "Unsupported operand" in text:
            name = text.split("GLOBAL", 1)[-1].split()[0] if "GLOBAL" in text else "an object"
            raise GenmoImportError(
                Code.UNSAFE_CONTENT,
                source,
                f"refused to load {name!r}: only tensors and "
                "numeric arrays are read (weights_only)",
            ) from None
        raise _damaged(source, "torch file", exc) from None
    except _DAMAGED as exc:
        raise _damaged(source, "torch file", exc) from None


def _as_numpy_tree(value: Any, source: str, depth: int) -> Any:
    """Tensors -> numpy arrays, mappings -> dicts with string keys; other leaves as they are."""
    if depth > 8:
        raise GenmoImportError(Code.NOT_A_DICT, source, "mappings nested deeper than 8 levels")
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        return value.detach().cpu().numpy()
    if isinstance(value, Mapping):
        return {str(k): _as_numpy_tree(v, source, depth + 1) for k, v in value.items()}
    if depth == 0:
        kind = type(value).__name__
        if isinstance(value, np.ndarray):
            kind = f"a {value.dtype} array of shape {tuple(value.shape)}"
        raise GenmoImportError(
            Code.NOT_A_DICT, source, f"holds {kind}, expected GENMO's dict of parameters"
        )
    return value
