"""Entropy and Huffman coding of weights: the bound, real canonical codes, gzip and lzma."""

from __future__ import annotations

import gzip
import heapq
import lzma
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from labkit.validate import check_array, check_int


def _symbols(values: Any) -> np.ndarray:
    return check_array(values, "values", kinds="fiub",
                       hint="pass the quantized weights or symbols, e.g. an int8 kernel").ravel()


def entropy_bits(values: Any) -> float:
    """Shannon entropy of the empirical distribution of ``values``, in bits per symbol.

    ``H = -sum(p_i * log2(p_i))`` over the distinct values, with ``p_i`` the fraction of
    the values equal to value ``i``. It is the fewest bits per symbol that any code for
    independent symbols with these frequencies can average (Shannon's source coding
    theorem).

    Example
    -------
    >>> entropy_bits([7, 7, 7, 7])
    0.0
    >>> round(entropy_bits([0, 0, 0, 1]), 4)
    0.8113
    """
    flat = _symbols(values)
    _, counts = np.unique(flat, return_counts=True)
    p = counts / flat.size
    return float(max(0.0, -np.sum(p * np.log2(p))))


def _check_counts(counts: Any) -> dict[Any, int]:
    if not isinstance(counts, Mapping):
        raise TypeError(f"counts must be a dict of symbol -> count, e.g. {{0: 90, 5: 10}}, got "
                        f"{type(counts).__name__}")
    if not counts:
        raise ValueError("counts must hold at least one symbol")
    return {symbol: check_int(n, f"counts[{symbol!r}]", low=1,
                              hint="leave out symbols that never occur")
            for symbol, n in counts.items()}


def huffman_code_lengths(counts: Mapping[Any, int]) -> dict[Any, int]:
    """Code length (bits) of each symbol in an optimal prefix code for ``counts``: Huffman.

    Repeatedly merge the two subtrees of smallest total count; each merge adds one bit to
    every symbol below it. Ties are broken by the order of first appearance in ``counts``,
    so the result repeats; other tie-breaks give other lengths with the same total
    ``sum(count * length)``. A single symbol gets length 1 (a code needs at least one bit).

    Parameters
    ----------
    counts : dict of symbol -> int
        How often each symbol occurs; every count >= 1.

    Returns
    -------
    dict of symbol -> int, the same keys as ``counts``.

    Example
    -------
    >>> huffman_code_lengths({0: 90, 1: 6, -1: 4})
    {0: 1, 1: 2, -1: 2}
    """
    checked = _check_counts(counts)
    symbols = list(checked)
    if len(symbols) == 1:
        return {symbols[0]: 1}
    lengths = [0] * len(symbols)
    heap = [(n, i, [i]) for i, n in enumerate(checked.values())]
    heapq.heapify(heap)
    order = len(symbols)
    while len(heap) > 1:
        n1, _, members1 = heapq.heappop(heap)
        n2, _, members2 = heapq.heappop(heap)
        for i in members1 + members2:
            lengths[i] += 1
        heapq.heappush(heap, (n1 + n2, order, members1 + members2))
        order += 1
    return dict(zip(symbols, lengths))


def _check_lengths(lengths: Any) -> dict[Any, int]:
    if not isinstance(lengths, Mapping):
        raise TypeError(f"lengths must be a dict of symbol -> code length in bits, e.g. "
                        f"{{0: 1, 5: 2, 7: 2}}, got {type(lengths).__name__}")
    if not lengths:
        raise ValueError("lengths must hold at least one symbol")
    checked = {symbol: check_int(n, f"lengths[{symbol!r}]", low=1, high=64)
               for symbol, n in lengths.items()}
    kraft = sum(2.0 ** -n for n in checked.values())
    if kraft > 1:
        raise ValueError(f"lengths are not the lengths of a prefix code: the sum of 2**-length "
                         f"is {kraft:g} > 1 (Kraft's inequality); make them with "
                         "huffman_code_lengths(counts)")
    return checked


def _check_bytes(data: Any, name: str) -> bytes:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"{name} must be bytes, got {type(data).__name__}")
    return bytes(data)


def canonical_codes(lengths: Mapping[Any, int]) -> dict[Any, tuple[int, int]]:
    """The canonical Huffman code for given code lengths: ``{symbol: (code, length)}``.

    Symbols sorted by (length, symbol) get consecutive codes, so a decoder needs only the
    lengths (DEFLATE, JPEG and Deep Compression's coder store codes this way).

    Example
    -------
    >>> canonical_codes({"a": 1, "b": 2, "c": 2})
    {'a': (0, 1), 'b': (2, 2), 'c': (3, 2)}
    """
    code, previous, out = 0, 0, {}
    for symbol, length in sorted(_check_lengths(lengths).items(), key=lambda item: (item[1], item[0])):
        code <<= length - previous
        out[symbol] = (code, length)
        code += 1
        previous = length
    return out


def huffman_encode(values: Any, lengths: Mapping[Any, int]) -> bytes:
    """The bit stream of ``values`` in the canonical code of ``lengths`` (zero-padded bytes).

    Example
    -------
    >>> huffman_encode([0, 0, 1, 2], {0: 1, 1: 2, 2: 2}).hex()  # 0 0 10 11 -> 0010 1100
    '2c'
    """
    codes = canonical_codes(lengths)
    flat = _symbols(values).tolist()
    missing = set(flat) - set(codes)
    if missing:
        raise ValueError(f"values hold symbols without a code: {sorted(missing)[:5]}; build "
                         "lengths from the counts of these values")
    table = {s: format(c, f"0{n}b") for s, (c, n) in codes.items()}
    bits = "".join(table[v] for v in flat)
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""


def huffman_decode(data: bytes, lengths: Mapping[Any, int], count: int) -> list[Any]:
    """Read ``count`` symbols back from :func:`huffman_encode`'s stream."""
    count = check_int(count, "count", low=0)
    data = _check_bytes(data, "data")
    decode = {(n, c): s for s, (c, n) in canonical_codes(lengths).items()}
    bits = "".join(format(b, "08b") for b in data)
    out, code, length = [], 0, 0
    for bit in bits:
        if len(out) == count:
            break
        code, length = (code << 1) | (bit == "1"), length + 1
        symbol = decode.get((length, code), decode)
        if symbol is not decode:
            out.append(symbol)
            code = length = 0
    if len(out) != count:
        raise ValueError(f"data holds {len(out)} symbols in the code of lengths, not count={count}")
    return out


def sparse_symbols(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """A sparse tensor as Deep Compression stores it: zero-run lengths and non-zero values.

    ``runs[i]`` is the number of zeros before non-zero value ``i`` (in ``ravel`` order);
    the last entry of ``runs`` counts the zeros after the last non-zero value. A Huffman
    code spends at least one bit per symbol, so coding a 90 %-zero tensor symbol by symbol
    costs >= 1 bit per weight; coding runs and values separately gets close to the entropy.

    Example
    -------
    >>> sparse_symbols([0, 0, 5, 0, 3, 0])
    (array([2, 1, 1]), array([5, 3]))
    """
    flat = _symbols(values)
    nonzero = np.flatnonzero(flat)
    edges = np.concatenate([[-1], nonzero, [flat.size]])
    return np.diff(edges) - 1, flat[nonzero]


def _huffman_bits(values: np.ndarray) -> tuple[int, int]:
    """(payload bits, table bytes) of a canonical Huffman code built for ``values``."""
    symbols, counts = np.unique(values, return_counts=True)
    lengths = huffman_code_lengths(dict(zip(symbols.tolist(), counts.tolist())))
    payload = int(sum(n * lengths[s] for s, n in zip(symbols.tolist(), counts.tolist())))
    width = max(1, math.ceil(math.log2(max(2, int(np.max(np.abs(symbols))) + 1)) / 8) + 1)
    return payload, len(symbols) * (width + 1)  # each table entry: the symbol and its length


def coded_sizes(values: Any) -> dict[str, float]:
    """Bytes to store ``values`` (e.g. an int8 kernel) with several codes.

    Returns ``{"raw": ..., "entropy bound": ..., "huffman": ..., "huffman, sparse": ...,
    "gzip": ..., "lzma": ...}``: one byte per int8 value; the entropy times the count;
    a Huffman code of the values (payload plus a table of symbols and lengths); Huffman
    codes of :func:`sparse_symbols`' runs and values; and the two general-purpose
    compressors on the raw bytes.
    """
    flat = _symbols(values)
    raw = flat.astype(np.int8).tobytes() if flat.dtype.itemsize == 1 else flat.tobytes()
    bound = entropy_bits(flat) * flat.size / 8
    payload, table = _huffman_bits(flat)
    runs, nonzero = sparse_symbols(flat)
    sparse = [_huffman_bits(part) for part in (runs, nonzero) if part.size]
    return {"raw": len(raw), "entropy bound": bound,
            "huffman": math.ceil(payload / 8) + table,
            "huffman, sparse": sum(math.ceil(p / 8) + t for p, t in sparse),
            "gzip": len(gzip.compress(raw, compresslevel=9, mtime=0)),
            "lzma": len(xz(raw))}


def xz(data: bytes) -> bytes:
    """``data`` compressed by lzma (the xz format, preset 9 extreme): bytes a device stores."""
    return lzma.compress(_check_bytes(data, "data"), preset=9 | lzma.PRESET_EXTREME)
