"""A model as C source, read back, compiled, and a TFLite Micro ``main.cc`` for it (notebook 09).

- :func:`to_c_array` (exercise ``09.to_c_array``) and :func:`c_header`: the ``.cc``/``.h`` pair
  of a 16-byte-aligned byte array and its length;
- :func:`read_c_array`: parse such source back (bytes, alignment, length, linkage);
- :func:`compile_roundtrip`: compile it with the host C++ compiler together with a tiny program
  that writes the bytes back out;
- :func:`resolver_ops`, :func:`micro_main_cc`, :func:`registered_ops`: a ``main.cc`` whose
  ``MicroMutableOpResolver`` registers exactly the model's operators.

Example
-------
>>> print(to_c_array(b"\\x1c\\x00\\x00\\x00TFL3", "g_model").splitlines()[-1])
const unsigned int g_model_len = 8;
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit.deploy.memory import minimum_arena_bytes
from labkit.validate import check_int, check_model_bytes

ALIGNMENT_BYTES = 16  # TFLite Micro's own generator writes alignas(16) (tools/generate_cc_arrays.py)
MICRO_OPS_PATH = Path(__file__).resolve().parents[1] / "tflm_ops.json"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# C source (exercise 09.to_c_array)
# --------------------------------------------------------------------------------------

def _check_name(name: Any) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name must be a str (a C identifier such as 'g_model'), got "
                        f"{type(name).__name__}")
    if not _IDENTIFIER.match(name):
        raise ValueError(f"name must be a C identifier (letters, digits, _; not starting with "
                         f"a digit), got {name!r}")
    return name


def to_c_array(model_bytes: bytes, name: str) -> str:
    """C++ source that holds a ``.tflite`` model as a 16-byte-aligned byte array and its length.

    TFLite Micro reads the model where it lies (in flash), so the array must be aligned as
    the flatbuffer expects (16 bytes, as TFLite Micro's own generator writes it). ``const``
    variables at file scope are private to their file in C++: the ``extern`` declarations
    first give both external linkage, so ``main.cc`` can use them through :func:`c_header`.

    Returns
    -------
    str
        ``extern const unsigned char NAME[]; extern const unsigned int NAME_len;`` then
        ``alignas(16) const unsigned char NAME[] = {0x.., …};`` (12 bytes a line) and
        ``const unsigned int NAME_len = <number of bytes>;``.

    Example
    -------
    >>> print(to_c_array(b"\\x1c\\x00\\x00\\x00TFL3", "g_model"))  # doctest: +NORMALIZE_WHITESPACE
    // g_model: a .tflite model of 8 bytes, written by labkit.deploy.to_c_array.
    // Aligned to 16 bytes: TFLite Micro reads the model in place, straight from flash.
    extern const unsigned char g_model[];
    extern const unsigned int g_model_len;
    <BLANKLINE>
    alignas(16) const unsigned char g_model[] = {
      0x1c, 0x00, 0x00, 0x00, 0x54, 0x46, 0x4c, 0x33,
    };
    const unsigned int g_model_len = 8;
    """
    model_bytes = check_model_bytes(model_bytes)
    name = _check_name(name)
    rows = [", ".join(f"0x{b:02x}" for b in model_bytes[i:i + 12]) + ","
            for i in range(0, len(model_bytes), 12)]
    return "\n".join([
        f"// {name}: a .tflite model of {len(model_bytes):,} bytes, written by "
        "labkit.deploy.to_c_array.",
        f"// Aligned to {ALIGNMENT_BYTES} bytes: TFLite Micro reads the model in place, straight "
        "from flash.",
        f"extern const unsigned char {name}[];",
        f"extern const unsigned int {name}_len;",
        "",
        f"alignas({ALIGNMENT_BYTES}) const unsigned char {name}[] = {{",
        *(f"  {row}" for row in rows),
        "};",
        f"const unsigned int {name}_len = {len(model_bytes)};",
        "",
    ])


def c_header(name: str) -> str:
    """The ``.h`` that declares :func:`to_c_array`'s array and length for other files.

    Example
    -------
    >>> print(c_header("g_model").splitlines()[2])
    extern const unsigned char g_model[];
    """
    name = _check_name(name)
    guard = f"{name.upper()}_H_"
    return (f"#ifndef {guard}\n#define {guard}\n"
            f"extern const unsigned char {name}[];\n"
            f"extern const unsigned int {name}_len;\n#endif  // {guard}\n")


@dataclass(frozen=True)
class CArray:
    """What :func:`read_c_array` found: the bytes, the alignment, the declared length."""

    name: str
    data: bytes
    alignment: int | None  # bytes, from alignas(N) or __attribute__((aligned(N))); None: absent
    length: int | None  # the value of NAME_len; None: no such definition
    length_is_sizeof: bool  # NAME_len = sizeof(NAME): right by construction
    exported: bool  # the array and the length have external linkage (extern, not static)

    def __repr__(self) -> str:
        return (f"CArray({self.name}: {len(self.data):,} bytes, alignment {self.alignment}, "
                f"{self.name}_len = {'sizeof' if self.length_is_sizeof else self.length}, "
                f"{'exported' if self.exported else 'file-local'})")


_ALIGNAS = re.compile(r"alignas\s*\(\s*(\d+)\s*\)|__attribute__\s*\(\(\s*aligned\s*\(\s*(\d+)"
                      r"\s*\)\s*\)\)")
_BYTE_TYPE = r"(?:unsigned\s+char|(?:std::)?uint8_t)"


def _without_comments(source: str) -> str:
    return re.sub(r"//[^\n]*", "", re.sub(r"/\*.*?\*/", " ", source, flags=re.S))


def _integer(token: str) -> int:
    match = re.fullmatch(r"(0[xX][0-9a-fA-F]+|[1-9][0-9]*|0)[uUlL]*", token.strip())
    if match is None:
        raise ValueError(f"{token.strip()!r} is not a hex (0x1c) or decimal integer literal")
    return int(match.group(1), 0)


def read_c_array(source: str, name: str) -> CArray:
    """Read back the array ``name`` and ``name_len`` from C/C++ source like :func:`to_c_array`'s.

    Comments are ignored; bytes may be hex or decimal literals; the alignment may be written
    ``alignas(N)`` or ``__attribute__((aligned(N)))``.

    Raises
    ------
    ValueError
        If there is no definition ``… NAME[] = {…};`` of ``unsigned char`` (or ``uint8_t``),
        or a value is not an integer literal from 0 to 255.

    Example
    -------
    >>> read_c_array(to_c_array(b"\\x1c\\x00\\x00\\x00TFL3", "m"), "m")
    CArray(m: 8 bytes, alignment 16, m_len = 8, exported)
    """
    if not isinstance(source, str):
        raise TypeError(f"source must be a str of C source, got {type(source).__name__}")
    name = _check_name(name)
    text = _without_comments(source)
    array = re.search(rf"\b{name}\s*\[\s*(?P<size>\d*)\s*\]\s*(?P<attr>__attribute__\s*\(\(.*?\)\))?"
                      rf"\s*=\s*\{{", text)
    close = -1 if array is None else text.find("}", array.end())
    if array is None or close < 0 or not text[close + 1:].lstrip().startswith(";"):
        raise ValueError(f"no definition of an array {name}[] = {{...}}; found")
    prefix = _statement_start(text, array.start())
    if not re.search(r"\bconst\b", prefix) or not re.search(_BYTE_TYPE, prefix):
        raise ValueError(f"{name} must be declared `const unsigned char {name}[]` (or const "
                         f"uint8_t), got `{' '.join(prefix.split())} {name}[]`")
    values = [_integer(t) for t in text[array.end():close].split(",") if t.strip()]
    if any(not 0 <= v <= 255 for v in values):
        raise ValueError(f"{name} holds values outside 0..255: a byte array holds bytes")
    if array["size"]:
        size = int(array["size"])
        if size < len(values):
            raise ValueError(f"{name}[{size}] is declared smaller than its {len(values)} values")
        values += [0] * (size - len(values))  # C fills the rest with zeros
    found = [int(a or b) for a, b in _ALIGNAS.findall(prefix + (array["attr"] or ""))]
    length_match = re.search(rf"\b{name}_len\s*=\s*(?P<value>[^;]+);", text)
    length, by_sizeof, length_prefix = None, False, ""
    if length_match is not None:
        value = length_match["value"].strip()
        by_sizeof = re.fullmatch(rf"sizeof\s*\(?\s*{name}\s*\)?", value) is not None
        length = len(values) if by_sizeof else _integer(value)
        length_prefix = _statement_start(text, length_match.start())
    exported = (re.search(r"\bstatic\b", prefix + " " + length_prefix) is None
                and _declared_extern(text, prefix, rf"{_BYTE_TYPE}\s+{name}\s*\[\s*\d*\s*\]")
                and (length_match is None
                     or _declared_extern(text, length_prefix, rf"[\w:]+(?:\s+[\w:]+)*\s+{name}_len")))
    return CArray(name, bytes(values), max(found) if found else None, length, by_sizeof, exported)


def _statement_start(text: str, position: int) -> str:
    """The declaration's specifiers: the text from the previous ``;``, ``{`` or ``}``."""
    start = max(text.rfind(c, 0, position) for c in ";{}") + 1
    return text[start:position]


def _declared_extern(text: str, definition_prefix: str, declarator: str) -> bool:
    if re.search(r"\bextern\b", definition_prefix):
        return True
    return re.search(rf"\bextern\s+(?:const\s+)?{declarator}\s*;", text) is not None


@dataclass(frozen=True)
class RoundTrip:
    """The bytes a compiled C++ program wrote back out, and where the array lay in memory."""

    data: bytes
    length: int  # the program's NAME_len
    address_mod_alignment: int  # address of the array modulo 16: 0 when aligned
    compiler: str

    def __repr__(self) -> str:
        return (f"RoundTrip({len(self.data):,} bytes written, {self.length:,} declared, address "
                f"mod {ALIGNMENT_BYTES} = {self.address_mod_alignment}, {self.compiler})")


def cxx_compiler() -> str | None:
    """The host C++ compiler (``c++``, ``g++`` or ``clang++`` on PATH), or None."""
    return next((p for p in map(shutil.which, ("c++", "g++", "clang++")) if p), None)


_DUMP_PROGRAM = """\
#include <cstdint>
#include <cstdio>
#include "{name}.h"

// Writes the model's bytes to stdout, and its length and address modulo {align} to stderr.
int main() {{
  std::fwrite({name}, 1, {name}_len, stdout);
  std::fprintf(stderr, "%u %u\\n", {name}_len,
               static_cast<unsigned>(reinterpret_cast<std::uintptr_t>({name}) % {align}));
  return 0;
}}
"""


def compile_roundtrip(source: str, name: str, *, workdir: str | Path | None = None) -> RoundTrip:
    """Compile ``source`` (from :func:`to_c_array`) with the host C++ compiler, together with a
    tiny program that writes the array back out; run it and return what it wrote.

    Raises
    ------
    RuntimeError
        If no C++ compiler is installed (``apt-get install g++``), or compiling fails
        (with the compiler's message).
    """
    if not isinstance(source, str):
        raise TypeError(f"source must be a str of C++ source, got {type(source).__name__}")
    name = _check_name(name)
    compiler = cxx_compiler()
    if compiler is None:
        raise RuntimeError("no C++ compiler found (c++, g++ or clang++); install one, e.g. "
                           "`sudo apt-get install g++`")
    with tempfile.TemporaryDirectory(prefix="labkit-c-", dir=workdir) as folder:
        root = Path(folder)
        (root / f"{name}.cc").write_text(source)
        (root / f"{name}.h").write_text(c_header(name))
        (root / "dump.cc").write_text(_DUMP_PROGRAM.format(name=name, align=ALIGNMENT_BYTES))
        build = subprocess.run([compiler, "-std=c++17", "-O1", "-o", str(root / "dump"),
                                str(root / "dump.cc"), str(root / f"{name}.cc")],
                               capture_output=True, text=True, cwd=root, timeout=120)
        if build.returncode != 0:
            raise RuntimeError(f"{Path(compiler).name} could not build the C array:\n"
                               f"{build.stderr[-1500:]}")
        run = subprocess.run([str(root / "dump")], capture_output=True, timeout=60)
    length, mod = (int(v) for v in run.stderr.decode().split())
    return RoundTrip(run.stdout, length, mod, Path(compiler).name)


# --------------------------------------------------------------------------------------
# A TFLite Micro main.cc for the model
# --------------------------------------------------------------------------------------

def _resolver_methods() -> dict[str, str]:
    return json.loads(MICRO_OPS_PATH.read_text(encoding="utf-8"))["methods"]


def resolver_ops(model_bytes: bytes) -> list[tuple[str, str]]:
    """The model's operators, in order of first use, with the ``MicroMutableOpResolver``
    method that registers each: ``[("MEAN", "AddMean"), …]``.

    Raises
    ------
    ValueError
        If the model uses an operator TFLite Micro has no builtin kernel for (e.g. a custom op).
    """
    from labkit.runtime import describe

    methods = _resolver_methods()
    ops = list(describe(model_bytes).ops)
    missing = [op for op in ops if op not in methods]
    if missing:
        raise ValueError(f"TFLite Micro has no builtin kernel for {', '.join(missing)}; such a "
                         "model needs a custom operator registered by hand")
    return [(op, methods[op]) for op in ops]


_MAIN_CC = """\
// main.cc: run {model_name} once with TFLite Micro. Generated by labkit.deploy.micro_main_cc.
// The op resolver registers exactly the {count} operators the model uses (read from the .tflite file).
#include <cstdint>

#include "{model_name}.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_log.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/micro/system_setup.h"
#include "tensorflow/lite/schema/schema_generated.h"

namespace {{
// {arena_note}
constexpr int kTensorArenaSize = {arena};
alignas(16) uint8_t tensor_arena[kTensorArenaSize];

using OpResolver = tflite::MicroMutableOpResolver<{count}>;

TfLiteStatus RegisterOps(OpResolver& resolver) {{
{registrations}
  return kTfLiteOk;
}}
}}  // namespace

int main(int argc, char* argv[]) {{
  tflite::InitializeTarget();
  const tflite::Model* model = tflite::GetModel({model_name});
  if (model->version() != TFLITE_SCHEMA_VERSION) {{
    MicroPrintf("model schema %d, runtime expects %d", model->version(), TFLITE_SCHEMA_VERSION);
    return 1;
  }}
  OpResolver resolver;
  if (RegisterOps(resolver) != kTfLiteOk) return 1;
  tflite::MicroInterpreter interpreter(model, resolver, tensor_arena, kTensorArenaSize);
  if (interpreter.AllocateTensors() != kTfLiteOk) {{
    MicroPrintf("AllocateTensors failed: kTensorArenaSize is too small");
    return 1;
  }}
  TfLiteTensor* input = interpreter.input(0);  // {input_text}
  for (size_t i = 0; i < input->bytes; ++i) input->data.int8[i] = input->params.zero_point;
  if (interpreter.Invoke() != kTfLiteOk) return 1;
  TfLiteTensor* output = interpreter.output(0);  // {output_text}
  for (int c = 0; c < output->dims->data[output->dims->size - 1]; ++c) {{
    float score = (output->data.int8[c] - output->params.zero_point) * output->params.scale;
    MicroPrintf("class %d: %f", c, static_cast<double>(score));
  }}
  MicroPrintf("arena used: %u of %d bytes", static_cast<unsigned>(interpreter.arena_used_bytes()),
              kTensorArenaSize);
  return 0;
}}
"""


def micro_main_cc(model_bytes: bytes, *, model_name: str = "g_model",
                  arena_bytes: int | None = None) -> str:
    """A TFLite Micro ``main.cc`` for an int8 model: op resolver, arena, one inference.

    The ``MicroMutableOpResolver`` template size equals the number of distinct operators in
    the model, and exactly those are registered (:func:`resolver_ops`): every kernel linked
    in costs flash, and a missing one fails at ``AllocateTensors``. The arena defaults to
    :func:`minimum_arena_bytes` rounded up to a multiple of 16; that minimum is measured on
    this (64-bit) machine, where TFLite Micro's bookkeeping structs hold 8-byte pointers.

    Parameters
    ----------
    model_bytes : bytes
        A full-int8 ``.tflite`` model (int8 input and output).
    model_name : str, default "g_model"
        The array of :func:`to_c_array` and :func:`c_header` (included as ``<name>.h``).
    arena_bytes : int, optional
        Tensor arena size.

    Returns
    -------
    str
    """
    from labkit.runtime import describe

    model_bytes = check_model_bytes(model_bytes)
    model_name = _check_name(model_name)
    report = describe(model_bytes)
    if (report.inputs[0].dtype, report.outputs[0].dtype) != ("int8", "int8"):
        raise ValueError("model_bytes must be a full-int8 model (int8 input and output), got "
                         f"{report.inputs[0].dtype} → {report.outputs[0].dtype}; convert it "
                         "with labkit.convert.convert_int8")
    ops = resolver_ops(model_bytes)
    if arena_bytes is None:
        measured = minimum_arena_bytes(model_bytes)
        arena = -(-measured // ALIGNMENT_BYTES) * ALIGNMENT_BYTES
        note = (f"the smallest arena that worked in TFLite Micro on the host ({measured:,} "
                f"bytes), rounded up to {ALIGNMENT_BYTES}")
    else:
        arena = check_int(arena_bytes, "arena_bytes", low=1)
        note = "tensor arena: activations, tensor and operator bookkeeping"
    lines = "\n".join(f"  TF_LITE_ENSURE_STATUS(resolver.{method}());  // {op}"
                      for op, method in ops)

    def text(t: Any) -> str:
        return f"{t.dtype} {list(t.shape)}, {t.quantization()}"

    return _MAIN_CC.format(model_name=model_name, count=len(ops), arena=arena, arena_note=note,
                           registrations=lines, input_text=text(report.inputs[0]),
                           output_text=text(report.outputs[0]))


def registered_ops(main_cc: str) -> tuple[int, list[str]]:
    """The template size and the ``resolver.AddX()`` calls of a generated ``main.cc``.

    Example
    -------
    >>> registered_ops("MicroMutableOpResolver<2>; resolver.AddMean(); resolver.AddSub();")
    (2, ['AddMean', 'AddSub'])
    """
    size = re.search(r"MicroMutableOpResolver<\s*(\d+)\s*>", main_cc)
    return (int(size.group(1)) if size else 0,
            re.findall(r"resolver\.(Add\w+)\(\)", main_cc))


# --------------------------------------------------------------------------------------
