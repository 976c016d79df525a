"""labkit doctor: the report, the self-test, and a non-zero exit with a fix when broken."""

from __future__ import annotations

import subprocess
import sys

from labkit import system as doctor_module


def test_doctor_cli_passes_and_prints_hardware():
    done = subprocess.run([sys.executable, "-m", "labkit.cli", "doctor"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    for needle in ("TensorFlow", "tf_keras", "tfmot", "LiteRT", "TFLite Micro", "Hardware",
                   "CPU", "SIMD", "cores", "memory", "accelerators", "Colab",
                   "PASS  TFLite Micro", "All good."):
        assert needle in done.stdout, needle
    assert "XNNPACK" not in done.stdout + done.stderr


def test_machine_info_fields():
    info = doctor_module.machine_info()
    assert info["cores"] >= 1 and isinstance(info["simd"], list)
    assert isinstance(info["colab"], bool)


def test_broken_stack_gives_exit_1_and_a_fix(monkeypatch, capsys):
    monkeypatch.setattr(doctor_module, "versions", lambda: {"Python": "3", "TensorFlow": "missing"})
    assert doctor_module.run() == 1
    out = capsys.readouterr().out
    assert "Missing packages: TensorFlow" in out and "Fix:" in out


def test_failed_self_test_step_is_reported(monkeypatch, capsys):
    import labkit.convert

    def broken(model):
        raise RuntimeError("converter exploded")

    monkeypatch.setattr(labkit.convert, "convert_float32", broken)
    assert doctor_module.run() == 1
    out = capsys.readouterr().out
    assert "FAIL  convert: RuntimeError: converter exploded" in out and "Fix:" in out
