"""Plain data between the judge and the sandbox: a JSON format that cannot run code on load.

What crosses is *plain data* only: ``None``, ``bool``, ``int``, ``float``, ``str``,
``bytes``, numpy arrays and scalars of a numeric dtype (bool, int, uint, float, complex),
and lists, tuples and dicts of these. Everything that is not a JSON primitive or a list is
a tagged object ``{"$": tag, ...}``, so decoding is a fixed, strict walk: unknown tags,
object dtypes, nesting deeper than :data:`MAX_DEPTH` and payloads larger than the caller
allows raise :class:`WireError`. Nothing is ever unpickled.

The sandbox side encodes whatever the student's function returned; a value that is not
plain data raises :class:`NotPlainData`, which the judge reports as a type failure. Keras
models cross as files, never as objects: the judge saves a model argument into the folder
the sandbox reads (tag ``keras``, a path), and a model the student's function returns
comes back as the bytes of its ``.keras`` file (tag ``keras_bytes``), which the judge
loads with Keras' ``safe_mode`` (no Lambda layers, no code) and measures itself.

Example
-------
>>> import numpy as np
>>> data = encode((np.arange(3, dtype=np.int8), {"scale": 0.5}, b"ok"))
>>> decode(data)
(array([0, 1, 2], dtype=int8), {'scale': 0.5}, b'ok')
>>> try:
...     decode(b'{"$": "pickle", "v": ""}')
... except WireError as exc:
...     print(exc)
unknown tag 'pickle'
"""

from __future__ import annotations

import base64
import json
import math
import numbers
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

MAX_DEPTH = 64
MAX_BYTES = 256 * 2**20  # one message, either way
_KINDS = "biufc"  # numeric dtype kinds that may cross


class WireError(ValueError):
    """The bytes are not a valid plain-data message (or are larger than allowed)."""


class NotPlainData(TypeError):
    """A value that cannot cross: not a number, string, bytes, numeric array or container."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _array_tag(arr: np.ndarray, tag: str) -> dict[str, Any]:
    arr = np.ascontiguousarray(arr)
    if arr.dtype.kind not in _KINDS:
        raise NotPlainData(f"a numpy array of dtype {arr.dtype} (only numeric arrays can be graded)")
    out = {"$": tag, "dtype": arr.dtype.newbyteorder("<").str if arr.dtype.byteorder == ">"
           else arr.dtype.str, "v": _b64(arr.astype(arr.dtype.newbyteorder("<")).tobytes())}
    if tag == "nd":
        out["shape"] = list(arr.shape)
    return out


def _to_json(value: Any, depth: int, save_model: Callable[[Any], str] | None) -> Any:
    if depth > MAX_DEPTH:
        raise NotPlainData(f"a structure nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str.__str__(value)  # a plain str, even for a subclass
    if isinstance(value, np.ndarray):
        return _array_tag(np.asarray(value), "nd")
    if isinstance(value, np.generic):
        return _array_tag(np.asarray(value), "np")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else {"$": "float", "v": repr(float(value))}
    if isinstance(value, complex):
        return {"$": "complex", "v": [value.real, value.imag]}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$": "bytes", "v": _b64(bytes(value))}
    if isinstance(value, list):
        return [_to_json(v, depth + 1, save_model) for v in value]
    if isinstance(value, tuple):
        return {"$": "tuple", "v": [_to_json(v, depth + 1, save_model) for v in value]}
    if isinstance(value, dict):
        return {"$": "dict", "v": [[_to_json(k, depth + 1, save_model),
                                    _to_json(v, depth + 1, save_model)] for k, v in value.items()]}
    if save_model is not None and hasattr(value, "get_config") and hasattr(value, "save"):
        saved = save_model(value)
        return ({"$": "keras_bytes", "v": _b64(saved)} if isinstance(saved, bytes)
                else {"$": "keras", "path": saved})
    raise NotPlainData(f"a {type(value).__name__}")


def encode(value: Any, *, save_model: Callable[[Any], str] | None = None,
           max_bytes: int = MAX_BYTES) -> bytes:
    """``value`` as wire bytes; :class:`NotPlainData` if it is not plain data.

    ``save_model(model)`` lets Keras models cross: it returns the path of the saved file
    (judge to sandbox) or the file's bytes (sandbox to judge).
    """
    text = json.dumps(_to_json(value, 0, save_model), allow_nan=False, separators=(",", ":"))
    data = text.encode("utf-8")
    if len(data) > max_bytes:
        raise NotPlainData(f"a value of {len(data):,} bytes (more than {max_bytes:,})")
    return data


def _array(obj: dict[str, Any], shape: list[Any] | None) -> np.ndarray:
    try:
        dtype = np.dtype(str(obj["dtype"]))
        raw = base64.b64decode(str(obj["v"]), validate=True)
    except (TypeError, ValueError, KeyError) as exc:
        raise WireError(f"malformed array ({exc})") from None
    if dtype.kind not in _KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise WireError(f"dtype {dtype} may not cross")
    if shape is None:
        shape = []
    if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
        raise WireError("malformed array shape")
    if math.prod(shape) * dtype.itemsize != len(raw):
        raise WireError("array data does not match its shape and dtype")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def _from_json(obj: Any, depth: int, load_model: Callable[[str], Any] | None) -> Any:
    if depth > MAX_DEPTH:
        raise WireError(f"nested deeper than {MAX_DEPTH} levels")
    if obj is None or type(obj) in (bool, int, float, str):
        return obj
    if type(obj) is list:
        return [_from_json(v, depth + 1, load_model) for v in obj]
    if type(obj) is not dict:
        raise WireError(f"unexpected {type(obj).__name__}")
    tag = obj.get("$")
    if tag == "nd":
        return _array(obj, obj.get("shape"))
    if tag == "np":
        return _array(obj, None)[()]
    if tag == "float" and obj.get("v") in ("nan", "inf", "-inf"):
        return float(obj["v"])
    if tag == "complex" and type(obj.get("v")) is list and len(obj["v"]) == 2:
        return complex(*(float(p) for p in obj["v"]))
    if tag == "bytes":
        try:
            return base64.b64decode(str(obj.get("v")), validate=True)
        except ValueError:
            raise WireError("malformed bytes") from None
    if tag in ("tuple", "dict") and type(obj.get("v")) is list:
        items = [_from_json(v, depth + 1, load_model) for v in obj["v"]]
        if tag == "tuple":
            return tuple(items)
        if not all(type(p) is list and len(p) == 2 for p in items):
            raise WireError("malformed dict")
        try:
            return {k: v for k, v in items}
        except TypeError:
            raise WireError("a dict key that is not hashable") from None
    if tag == "keras" and load_model is not None and type(obj.get("path")) is str:
        return load_model(obj["path"])
    if tag == "keras_bytes" and load_model is not None:
        try:
            data = base64.b64decode(str(obj.get("v")), validate=True)
        except ValueError:
            raise WireError("malformed model bytes") from None
        return load_model(data)
    raise WireError(f"unknown tag {tag!r}")


def decode(data: bytes, *, load_model: Callable[[str], Any] | None = None,
           max_bytes: int = MAX_BYTES) -> Any:
    """Plain Python/numpy values from wire bytes; :class:`WireError` if malformed."""
    if len(data) > max_bytes:
        raise WireError(f"{len(data):,} bytes is more than the {max_bytes:,} allowed")
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError) as exc:
        raise WireError(f"not a plain-data message ({type(exc).__name__})") from None
    return _from_json(obj, 0, load_model)


def load_keras_model(source: str | bytes) -> Any:
    """Load a Keras model: from a path the judge wrote (sandbox side), or from the bytes of a
    ``.keras`` file the sandbox sent (judge side), with ``safe_mode`` and tfmot's wrappers
    (pruning, clustering, QAT) known, so a pruned or clustered model loads as it is."""
    import tempfile

    from labkit._tf import load, load_tfmot

    _, keras = load()
    if isinstance(source, bytes):
        with tempfile.TemporaryDirectory(prefix="labkit-model-") as folder:
            path = Path(folder) / "model.keras"
            path.write_bytes(source)
            return load_keras_model(str(path))
    tfmot = load_tfmot()
    with tfmot.sparsity.keras.prune_scope(), tfmot.clustering.keras.cluster_scope(), \
            tfmot.quantization.keras.quantize_scope():
        try:
            return keras.models.load_model(Path(source), safe_mode=True)
        except (ValueError, TypeError, OSError, KeyError) as exc:
            raise WireError(f"not a Keras model file that loads safely ({exc})") from None


def model_file_bytes(model: Any) -> bytes:
    """The bytes of ``model`` saved as a ``.keras`` file (sandbox side)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="labkit-result-") as folder:
        path = Path(folder) / "result.keras"
        model.save(path)
        return path.read_bytes()
