"""``labkit doctor`` (this module is ``labkit.system``): versions, hardware, self-test.

Prints the versions of the stack, the CPU and the SIMD features that matter for inference,
cores and memory, accelerators, and whether this is Colab; then builds a tiny model,
converts it to float32 and int8 ``.tflite``, runs both on LiteRT and the int8 one on
TFLite Micro. Returns 0 when everything passed, 1 otherwise (with a fix to try).
Notebook 00 shows its output.

Example
-------
>>> info = machine_info()
>>> sorted(info)[:3]
['accelerators', 'arch', 'colab']
"""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PACKAGES = {  # what is printed -> distribution name
    "TensorFlow": "tensorflow",
    "tf_keras": "tf-keras",
    "tfmot": "tensorflow-model-optimization",
    "LiteRT": "ai-edge-litert",
    "TFLite Micro": "tflite-micro",
    "numpy": "numpy",
}
X86_FEATURES = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")
ARM_FEATURES = ("neon", "asimd", "asimddp", "i8mm", "sve", "bf16")
FIX = ("Fix: reinstall the course environment (`make clean && make test`, or on Colab "
       "re-run the first cell and restart the runtime), then run `labkit doctor` again.")


def versions() -> dict[str, str]:
    """Python and the course's packages with their installed versions (or 'missing')."""
    found = {"Python": platform.python_version()}
    for label, dist in PACKAGES.items():
        try:
            found[label] = md.version(dist)
        except md.PackageNotFoundError:
            found[label] = "missing"
    return found


def _cpuinfo() -> tuple[str, set[str]]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine(), set()
    model, flags = "", set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "hardware", "cpu model") and not model:
            model = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = set(value.split())
    return model or platform.machine(), flags


def _memory_gib() -> float | None:
    try:
        import psutil

        return psutil.virtual_memory().total / 2**30
    except ImportError:
        return None


def _coral_present() -> bool:
    """A Coral Edge TPU: the PCIe driver's device, or its USB ids (Google 18d1:9302, 1a6e:089a)."""
    if Path("/dev/apex_0").exists():
        return True
    for dev in Path("/sys/bus/usb/devices").glob("*"):
        try:
            ids = ((dev / "idVendor").read_text().strip(), (dev / "idProduct").read_text().strip())
        except OSError:
            continue
        if ids in {("18d1", "9302"), ("1a6e", "089a")}:
            return True
    return False


def machine_info(*, with_tensorflow: bool = False) -> dict[str, object]:
    """CPU model, SIMD features, cores, memory, accelerators and Colab, as a dict."""
    model, flags = _cpuinfo()
    wanted = X86_FEATURES if platform.machine() in ("x86_64", "AMD64") else ARM_FEATURES
    accelerators = []
    if with_tensorflow:
        from labkit._tf import load

        tf, _ = load()
        accelerators += [f"GPU {d.name}" for d in tf.config.list_physical_devices("GPU")]
    if _coral_present():
        accelerators.append("Coral Edge TPU")
    return {
        "cpu": model,
        "arch": platform.machine(),
        "simd": [f for f in wanted if f in flags],
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "accelerators": accelerators,
        "colab": "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ,
    }


@dataclass
class Step:
    """One self-test step: its name, whether it passed, and a detail line."""

    name: str
    ok: bool
    detail: str

    def __repr__(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'}  {self.name}: {self.detail}"


def _tiny_model_and_data():
    from labkit._tf import load

    _, keras = load()
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 8)).astype(np.float32)
    model = keras.Sequential([keras.layers.Dense(16, activation="relu", input_shape=(8,)),
                              keras.layers.Dense(4)])
    return model, x


def run_self_test() -> list[Step]:
    """Build, convert and run a tiny model on LiteRT and TFLite Micro."""
    steps: list[Step] = []

    def attempt(name: str, fn: Callable[[], str]) -> bool:
        try:
            steps.append(Step(name, True, fn()))
        except Exception as exc:  # report, don't crash: this is a diagnostic
            steps.append(Step(name, False, f"{type(exc).__name__}: {exc}"[:300]))
        return steps[-1].ok

    state: dict[str, object] = {}

    def build() -> str:
        from labkit._tf import load

        tf, _ = load()
        state["model"], state["x"] = _tiny_model_and_data()
        return f"TensorFlow {tf.__version__} built a {state['model'].count_params()}-parameter model"

    def convert() -> str:
        from labkit.convert import convert_float32, convert_int8

        state["f32"] = convert_float32(state["model"])
        state["i8"] = convert_int8(state["model"], state["x"])
        return f"float32 {len(state['f32']):,} B, int8 {len(state['i8']):,} B"

    def litert() -> str:
        from labkit.runtime import predict

        x = state["x"][:8]
        ref = state["model"](x).numpy()
        f32 = predict(state["f32"], x)
        if not np.allclose(f32, ref, atol=1e-4):
            raise AssertionError(f"float32 output differs from Keras by {np.abs(f32 - ref).max():.2g}")
        state["lite_i8"] = predict(state["i8"], x)
        return "float32 matches Keras; int8 ran"

    def micro() -> str:
        from labkit.runtime import describe, run_micro

        out = run_micro(state["i8"], state["x"][:8])
        step = describe(state["i8"]).outputs[0].scales[0]
        steps = float(np.abs(out - state["lite_i8"]).max() / step)
        if steps > 1.01:
            raise AssertionError(f"TFLite Micro differs from LiteRT by {steps:.0f} int8 steps")
        return f"int8 output matches LiteRT (max difference {steps:.0f} step)"

    for name, fn in (("build", build), ("convert", convert), ("LiteRT", litert),
                     ("TFLite Micro", micro)):
        if not attempt(name, fn):
            break
    return steps


def report(info: dict[str, object], vers: dict[str, str]) -> str:
    """The printed report (without the self-test)."""
    mem = info["memory_gib"]
    lines = ["Edge AI Lab — labkit doctor", "", "Software"]
    lines += [f"  {k:<13}{v}" for k, v in vers.items()]
    lines += ["", "Hardware",
              f"  CPU          {info['cpu']} ({info['arch']})",
              f"  SIMD         {', '.join(info['simd']) or 'none of ' + 'the listed features'}",
              f"  cores        {info['cores']}",
              f"  memory       {mem:.1f} GiB" if mem else "  memory       unknown",
              f"  accelerators {', '.join(info['accelerators']) or 'none (CPU only)'}",
              f"  Colab        {'yes' if info['colab'] else 'no'}"]
    return "\n".join(lines)


def sandbox_line() -> str:
    """Whether ``labkit grade`` can sandbox submissions here (only instructors need it)."""
    from labkit.grading.sandbox import sandbox_problem

    problem = sandbox_problem()
    state = "works (bubblewrap)" if problem is None else (
        f"not available — {problem}. Only instructors grading submissions need it.")
    return f"\nGrading sandbox\n  {state}"


def run(*, self_test: bool = True) -> int:
    """Print the report and the self-test; return 0 if all is well, else 1."""
    vers = versions()
    info = machine_info(with_tensorflow=vers["TensorFlow"] != "missing")
    print(report(info, vers))
    print(sandbox_line())
    missing = [k for k, v in vers.items() if v == "missing"]
    ok = not missing
    if missing:
        print(f"\nMissing packages: {', '.join(missing)}")
    if self_test and ok:
        print("\nSelf-test")
        steps = run_self_test()
        for step in steps:
            print(f"  {step!r}")
        ok = len(steps) == 4 and all(s.ok for s in steps)
    print("\nAll good." if ok else f"\nSomething is broken. {FIX}")
    return 0 if ok else 1
