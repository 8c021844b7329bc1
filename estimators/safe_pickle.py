"""Reading pickled containers of numeric arrays without running anything they name.

A pickle is a program: its ``GLOBAL`` opcodes import any callable and ``REDUCE`` calls it, so
``np.load(allow_pickle=True)`` or ``torch.load(weights_only=False)`` on a file from elsewhere
can execute arbitrary code. GENMO's results are plain data (dicts of float arrays), so the
unpickler here resolves only what such data needs, the names numpy itself writes when it
pickles an array, and refuses everything else before it is imported:

- ``numpy._core.multiarray._reconstruct`` / ``numpy.core.multiarray._reconstruct`` (numpy 2 /
  numpy 1 spelling), ``numpy.ndarray`` and ``numpy.dtype`` (an array's pickle);
- ``numpy._core.multiarray.scalar`` / ``numpy.core.multiarray.scalar`` (``np.float64(30.0)``);
- ``collections.OrderedDict``; ``_codecs.encode`` (how protocol-2 pickles spell bytes).

Dicts, lists, tuples, strings and numbers are built by pickle opcodes that import nothing.
``NUMPY_SAFE_GLOBALS`` is the same allow-list in the form ``torch.serialization.safe_globals``
takes, for ``.pt`` files read with ``weights_only=True``.
"""

from __future__ import annotations

import codecs
import collections
import importlib
import io
import pickle
from typing import Any

import numpy as np

try:  # numpy 2 moved the array internals to numpy._core
    _multiarray: Any = importlib.import_module("numpy._core.multiarray")
except ImportError:  # pragma: no cover - numpy 1.x
    _multiarray = importlib.import_module("numpy.core.multiarray")

_NUMPY_MODULES = ("numpy._core.multiarray", "numpy.core.multiarray")

ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    **{(m, "_reconstruct"): _multiarray._reconstruct for m in _NUMPY_MODULES},
    **{(m, "scalar"): _multiarray.scalar for m in _NUMPY_MODULES},
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("collections", "OrderedDict"): collections.OrderedDict,
    # Protocol-2 pickles (Python 2 era) spell bytes as _codecs.encode(text, "latin1").
    ("_codecs", "encode"): codecs.encode,
}
"""``(module, name)`` -> the object; nothing outside this table is ever imported."""

NUMPY_SAFE_GLOBALS: list[Any] = [
    _multiarray._reconstruct,
    _multiarray.scalar,
    np.ndarray,
    np.dtype,
    (_multiarray._reconstruct, "numpy.core.multiarray._reconstruct"),
    (_multiarray.scalar, "numpy.core.multiarray.scalar"),
    # numpy >= 1.25 may pickle a dtype through its class (numpy.dtypes.Float32DType, ...).
    *(type(np.dtype(code)) for code in ("f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2",
                                        "u4", "u8", "b1")),
]  # fmt: skip
"""The allow-list for ``torch.serialization.safe_globals`` (torch >= 2.5)."""


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle names a global outside the allow-list (it was not imported).

    Attributes:
        name: ``module.name`` it asked for.
    """

    def __init__(self, name: str) -> None:
        super().__init__(f"refused to load {name!r}: only dicts of numeric arrays are read")
        self.name = name


class _DataUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(f"{module}.{name}") from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(f"persistent id {str(pid)[:40]}")


def loads_data(data: bytes) -> Any:
    """Unpickle ``data`` admitting only plain containers and numeric numpy arrays.

    Raises:
        UnsafePickleError: a global outside the allow-list was asked for.
        pickle.UnpicklingError, EOFError, ValueError, TypeError, ...: a damaged stream (the
            caller turns these into its own error).
    """
    return _DataUnpickler(io.BytesIO(data)).load()
