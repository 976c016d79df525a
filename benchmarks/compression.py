"""Measure the Deep-Compression pipeline of notebook 04: each step's size and accuracy, the ratio.

Backs notebook 04's claims. Run from the repository root:

    .venv/bin/python benchmarks/compression.py [--quick]

and it writes ``benchmarks/results/compression.{json,md}``. Two models, both from the zoo:

- the course CNN on digits (270 test images: one image is 0.37 points, so most accuracy
  differences are indistinguishable there);
- the signal CNN on MNIST-1D (70,000 signals generated locally, 10,500 of them for testing:
  a 95 % interval of about ±0.2 points near 99 %), where the accuracy target can be decided.

Each goes through ``labkit.compression.deep_compression`` with the notebook's plan — prune
(one sparsity per layer) → cluster (16 clusters, sparsity preserved) → int8 — once with
post-training int8 conversion (PTQ) and once with prune- and cluster-preserving QAT (PCQAT),
for ``--seeds`` fine-tuning seeds. Every step's file is measured: raw bytes, gzip, lzma (xz,
what a device would store and decompress at load time) and, for the int8 file, Deep
Compression's own format (``entropy_coded_size``: Huffman-coded weights, decoded and
checked, lzma for the rest). Accuracies are measured on LiteRT, with Wilson intervals, and
compared with the float32 model on the same test samples (Agresti-Min interval of the
difference, exact McNemar test). The target: at least 30× smaller than the float32
``.tflite`` with an accuracy change whose interval lies above −1 point.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from pathlib import Path

import numpy as np

from labkit import compression as lc
from labkit import runtime, stats, zoo
from labkit.data import load_digits, load_mnist1d
from labkit.system import machine_info, versions

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_RATIO, TARGET_DROP = 30.0, -0.01
SETUPS = {  # the notebook's settings
    "course CNN on digits": {
        "recipe": zoo.COURSE_CNN, "data": lambda: load_digits(32), "train_samples": None,
        "plan": {"conv2": 0.8, "conv3": 0.9, "dense": 0.97}, "batch_size": 32},
    "signal CNN on MNIST-1D": {
        "recipe": lc.SIGNAL_CNN, "data": lambda: load_mnist1d(num_samples=70_000),
        "train_samples": 24_500,
        "plan": {"conv2": 0.6, "conv3": 0.7, "hidden": 0.975, "dense": 0.75}, "batch_size": 128},
}
STEPS = ("float32", "pruned", "clustered", "int8")


def _sizes(model_bytes: bytes) -> dict[str, int]:
    return {"raw_bytes": len(model_bytes), "gzip_bytes": runtime.gzipped_size_bytes(model_bytes),
            "xz_bytes": len(lc.xz(model_bytes))}


def _accuracy(acc: stats.Accuracy) -> dict[str, float]:
    return {"accuracy": acc.value, "low": acc.low, "high": acc.high, "n": acc.n}


def run_setup(name: str, setup: dict, seeds: list[int], qat_options: tuple[int, ...]) -> dict:
    ds = setup["data"]()
    model = zoo.trained(setup["recipe"]).model
    n = setup["train_samples"] or len(ds.x_train)
    x, y = ds.x_train[:n], ds.y_train[:n]
    runs = []
    for qat_epochs in qat_options:
        for seed in seeds:
            start = time.perf_counter()
            pipe = lc.deep_compression(model, x, y, plan=setup["plan"], number_of_clusters=16,
                                       x_calib=ds.x_train[:200], prune_epochs=2,
                                       cluster_epochs=1, qat_epochs=qat_epochs,
                                       batch_size=setup["batch_size"], seed=seed)
            seconds = time.perf_counter() - start
            files = pipe["files"]
            base = runtime.predict(files["float32"], ds.x_test)
            steps = {}
            for step in STEPS:
                pred = base if step == "float32" else runtime.predict(files[step], ds.x_test)
                cmp = stats.compare(pred, base, ds.y_test, names=(step, "float32"))
                steps[step] = {**_sizes(files[step]), **_accuracy(cmp.a),
                               "difference": cmp.difference, "difference_low": cmp.low,
                               "difference_high": cmp.high, "mcnemar_p": cmp.test.p_value,
                               "verdict_loses_less_than_one_point": (
                                   stats.verdict(cmp, above=TARGET_DROP)
                                   if step != "float32" else "—")}
            coded = lc.entropy_coded_size(files["int8"])
            f32 = steps["float32"]["raw_bytes"]
            final = steps["int8"]
            runs.append({
                "int8": "PCQAT" if qat_epochs else "PTQ", "seed": seed, "seconds": seconds,
                "step_seconds": pipe["seconds"], "steps": steps,
                "deep_compression_format": coded,
                "ratio_xz": f32 / final["xz_bytes"], "ratio_gzip": f32 / final["gzip_bytes"],
                "ratio_deep_compression_format": f32 / coded["total_bytes"],
                "target_met": bool(f32 / final["xz_bytes"] >= TARGET_RATIO
                                   and final["verdict_loses_less_than_one_point"] == "holds"),
            })
            print(f"  {name}, {runs[-1]['int8']}, seed {seed}: {runs[-1]['ratio_xz']:.1f}×, "
                  f"{100 * final['difference']:+.2f} points [{100 * final['difference_low']:+.2f}, "
                  f"{100 * final['difference_high']:+.2f}] ({seconds:.0f} s)", flush=True)
    return {"model": name, "recipe": setup["recipe"].builder, "params": model.count_params(),
            "test_samples": len(ds.y_test), "train_samples_used": n, "plan": setup["plan"],
            "number_of_clusters": 16, "runs": runs}


def _pct(value: float) -> str:
    return f"{100 * value:+.2f}"


def markdown(result: dict) -> str:
    m = result["machine"]
    lines = [
        "# Compression benchmark (notebook 04)",
        "",
        f"Generated by `benchmarks/compression.py` on {result['date']}: {m['cpu']}, {m['cores']} "
        f"cores; TensorFlow {result['versions']['TensorFlow']}, tfmot {result['versions']['tfmot']}, "
        f"LiteRT {result['versions']['LiteRT']}. Load average before/after: "
        f"{result['load_before']:.2f} / {result['load_after']:.2f}; wall time "
        f"{result['wall_seconds']:.0f} s. Fine-tuning seeds {result['seeds']}.",
        "",
        "Pipeline: prune (tfmot `prune_low_magnitude`, one sparsity per layer, 2 epochs) → cluster "
        "(`cluster_weights`, 16 clusters, k-means++, `preserve_sparsity=True`, 1 epoch) → int8 "
        "(post-training full-integer conversion, PTQ, or 1 epoch of prune- and cluster-preserving "
        "QAT, PCQAT) → entropy coding. **Stored bytes** are the file compressed with lzma (xz), "
        "what a device keeps and decompresses when it loads the model; *Deep Compression's "
        "format* Huffman-codes the int8 weights (zero-runs and values, every stream decoded and "
        "checked) and lzma-compresses the rest of the file. Ratios are against the float32 "
        "`.tflite` file. Accuracy on LiteRT with 95 % Wilson intervals; the difference to the "
        "float32 model with its Agresti-Min interval; the verdict on \"loses less than one point\".",
        "",
    ]
    for setup in result["setups"]:
        lines += [f"## {setup['model']}", "",
                  f"{setup['params']:,} parameters; {setup['test_samples']:,} test samples "
                  f"(one sample = {100 / setup['test_samples']:.3f} points); fine-tuned on "
                  f"{setup['train_samples_used']:,} training samples; plan "
                  + ", ".join(f"{k} {v:.1%}" for k, v in setup["plan"].items()) + ".", ""]
        first = setup["runs"][0]
        lines += [f"Each step, {first['int8']} run, seed {first['seed']}:", "",
                  "| step | raw (KB) | gzip (KB) | xz (KB) | ratio (xz) | test accuracy | "
                  "Δ vs float32 (points) | verdict: loses < 1 point |",
                  "|---|---:|---:|---:|---:|---|---|---|"]
        f32 = first["steps"]["float32"]["raw_bytes"]
        for step, s in first["steps"].items():
            delta = "—" if step == "float32" else (f"{_pct(s['difference'])} [{_pct(s['difference_low'])}, "
                                                   f"{_pct(s['difference_high'])}]")
            lines.append(f"| {step} | {s['raw_bytes'] / 1000:.1f} | {s['gzip_bytes'] / 1000:.1f} | "
                         f"{s['xz_bytes'] / 1000:.1f} | {f32 / s['xz_bytes']:.1f}× | "
                         f"{100 * s['accuracy']:.2f} % [{100 * s['low']:.2f}, {100 * s['high']:.2f}] | "
                         f"{delta} | {s['verdict_loses_less_than_one_point']} |")
        lines += ["", "Every run:", "",
                  "| int8 | seed | final xz (bytes) | ratio (xz) | ratio (gzip) | ratio (Deep Compression "
                  "format) | Δ accuracy (points) | verdict | target met | seconds |",
                  "|---|---:|---:|---:|---:|---:|---|---|---|---:|"]
        for r in setup["runs"]:
            s = r["steps"]["int8"]
            lines.append(f"| {r['int8']} | {r['seed']} | {s['xz_bytes']:,} | {r['ratio_xz']:.1f}× | "
                         f"{r['ratio_gzip']:.1f}× | {r['ratio_deep_compression_format']:.1f}× | "
                         f"{_pct(s['difference'])} [{_pct(s['difference_low'])}, "
                         f"{_pct(s['difference_high'])}] | {s['verdict_loses_less_than_one_point']} | "
                         f"{'yes' if r['target_met'] else 'no'} | "
                         f"{r['seconds']:.0f} |")
        by = {}
        for r in setup["runs"]:
            by.setdefault(r["int8"], []).append(r)
        if len(by) == 2:
            ptq = np.mean([r["steps"]["int8"]["xz_bytes"] for r in by["PTQ"]])
            pcqat = np.mean([r["steps"]["int8"]["xz_bytes"] for r in by["PCQAT"]])
            d_ptq = np.mean([r["steps"]["int8"]["difference"] for r in by["PTQ"]])
            d_pcqat = np.mean([r["steps"]["int8"]["difference"] for r in by["PCQAT"]])
            lines += ["", f"PCQAT against PTQ (means over seeds): {pcqat:,.0f} vs {ptq:,.0f} bytes "
                      f"({100 * (pcqat / ptq - 1):+.1f} %), accuracy change {_pct(d_pcqat)} vs "
                      f"{_pct(d_ptq)} points."]
        lines.append("")
    v = result["verdict"]
    lines += ["## The target", "",
              f"At least {TARGET_RATIO:.0f}× smaller than the float32 `.tflite` (xz-stored bytes) with "
              "an accuracy change whose 95 % interval lies above −1 point, on a test set large "
              f"enough to tell: **{'reached' if v['met'] else 'not reached'}** — {v['text']}", ""]
    return "\n".join(lines)


def verdict(setups: list[dict]) -> dict:
    signal = next(s for s in setups if "MNIST-1D" in s["model"])
    chosen = [r for r in signal["runs"] if r["int8"] == "PCQAT"] or signal["runs"]
    met = all(r["target_met"] for r in chosen)
    ratios = [r["ratio_xz"] for r in chosen]
    lows = [r["steps"]["int8"]["difference_low"] for r in chosen]
    text = (f"on MNIST-1D with {signal['test_samples']:,} test signals, the notebook's pipeline "
            f"({chosen[0]['int8']}) reached {min(ratios):.1f}×–{max(ratios):.1f}× over "
            f"{len(chosen)} seed(s), the lowest bound of the accuracy difference being "
            f"{_pct(min(lows))} points; "
            + ("every seed met the target." if met else "not every seed met the target."))
    digits = next(s for s in setups if "digits" in s["model"])
    d = [r for r in digits["runs"] if r["int8"] == "PTQ"] or digits["runs"]
    verdicts = sorted({r["steps"]["int8"]["verdict_loses_less_than_one_point"] for r in d})
    text += (f" On digits ({digits['test_samples']} test images) the same pipeline reached "
             f"{min(r['ratio_xz'] for r in d):.1f}×–{max(r['ratio_xz'] for r in d):.1f}×, and the "
             f"accuracy verdicts are: {', '.join(verdicts)}.")
    return {"met": met, "text": text, "ratios_xz": ratios}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--quick", action="store_true", help="one seed, PCQAT on MNIST-1D only")
    args = parser.parse_args()
    seeds = [0] if args.quick else args.seeds
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    setups = []
    for name, setup in SETUPS.items():
        print(f"{name} ...", flush=True)
        options = (0, 1) if not args.quick else ((1,) if "MNIST" in name else (0,))
        setups.append(run_setup(name, setup, seeds, options))
    result = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_info(), "versions": versions(), "load_before": load_before,
        "load_after": os.getloadavg()[0], "seeds": seeds,
        "wall_seconds": time.perf_counter() - start,
        "target": {"ratio": TARGET_RATIO, "accuracy_change": TARGET_DROP},
        "setups": setups,
    }
    result["verdict"] = verdict(setups)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "compression.json").write_text(json.dumps(result, indent=2, default=_plain) + "\n")
    (RESULTS / "compression.md").write_text(markdown(result))
    print(markdown(result))


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


if __name__ == "__main__":
    main()
