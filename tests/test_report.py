"""The instructor's HTML report: built from a real grading run (CLI), from each gradebook
layout, and rendered in headless Chromium (plots shown, table sorts, no console errors)."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from labkit.cli import main
from labkit.grading.grader import Submission
from labkit.grading.registry import lab_exercises
from labkit.grading.report import load_gradebook, message_group, report_html
from labkit.grading.sandbox import sandbox_problem

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def notebook(source: str) -> str:
    nb = new_notebook(cells=[new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["labkit"] = {"lab": "00"}
    return nbformat.writes(nb)


@pytest.mark.skipif(sandbox_problem() is not None, reason="no grading sandbox here")
def test_report_of_a_real_run_in_every_layout(tmp_path, capsys):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name, body in {"ann": "return -(-n * b // 8)", "bea": "return n * b // 8",
                       "cal": "return n * b // 8",
                       "dee": "raise NotImplementedError()"}.items():
        (subs / f"{name}.ipynb").write_text(notebook(f"def model_size_bytes(n, b):\n    {body}"
                                                     f"  # {name}"))
    (subs / "eve.ipynb").write_text("not a notebook")
    out = tmp_path / "gb.csv"
    assert main(["grade", str(subs), "-o", str(out), "--lab", "00", "--workers", "1",
                 "--report"]) == 0
    page = (tmp_path / "gb_report.html").read_text()
    assert "report: " in capsys.readouterr().out
    for text in ("Statuses and flags", "Lab 00: scores", "test stage", "failure messages",
                 "Time per submission", "Students", "not a notebook"):
        assert text in page, text
    # the floor mistake of two students is one message group, with the count 2
    assert '<td class="num">2</td><td>bits that do not fill a byte' in page
    assert page.count("data:image/png;base64,") == 3 and "://" not in page

    again = tmp_path / "again.html"
    assert main(["report", str(out), "-o", str(again)]) == 0
    assert again.read_text().count("<tr>") == page.count("<tr>")
    loaded = {s.student: s for s in load_gradebook(out)}
    assert loaded["bea"].results[0]["stage"] == "values" and loaded["bea"].seconds > 0

    long = tmp_path / "long.csv"
    assert main(["grade", str(subs), "-o", str(long), "--lab", "00", "--workers", "1",
                 "--format", "long"]) == 0
    assert {s.student: s.score for s in load_gradebook(long)} == {
        "ann": 3, "bea": 1, "cal": 1, "dee": 0, "eve": 0}
    lms = tmp_path / "lms.csv"
    assert main(["grade", str(subs), "-o", str(lms), "--lab", "00", "--workers", "1",
                 "--format", "lms"]) == 0
    assert main(["report", str(lms), "-o", str(tmp_path / "no.html")]) == 2
    assert "lms layout" in capsys.readouterr().err


def test_message_groups_ignore_the_random_numbers():
    a = "random models: model_size_bytes(1234, 3) = 462, expected 463"
    b = "random models: model_size_bytes(77, 5) = 48, expected 49"
    assert message_group(a) == message_group(b)


def synthetic_class(n: int = 40, seed: int = 3) -> list[Submission]:
    rng = random.Random(seed)
    exercises = lab_exercises("07")
    subs = []
    for i in range(n):
        status = rng.choices(["ok", "timeout", "error", "not a notebook"], [34, 2, 2, 2])[0]
        results = []
        if status == "ok":
            for e in exercises:
                kind = rng.choices(["passed", "failed", "not attempted"], [6, 3, 1])[0]
                score = e.points if kind == "passed" else (
                    rng.randrange(e.points) if kind == "failed" else 0)
                results.append({"exercise_id": e.id, "score": score, "max_score": e.points,
                                "status": kind, "stage": rng.choice(["values", "type", "error"])
                                if kind == "failed" else "",
                                "message": f"random cases: f({rng.randrange(99)}) = "
                                           f"{rng.random():.3f}, expected {rng.random():.3f}"
                                if kind == "failed" else ""})
        flags = ["07.dvfs_power_w: 96% like labkit's reference"] if i % 13 == 5 else []
        subs.append(Submission(Path(f"s{i:02d}.ipynb"), f"student{i:02d}<i>", status, "07",
                               results=results, seconds=rng.uniform(2, 30), flags=flags))
    return subs


@pytest.mark.skipif(not (CHROMIUM and DRIVER),
                    reason="no Chromium/ChromeDriver: apt-get install chromium chromium-driver")
def test_report_renders_in_chromium_and_sorts(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.common.by import By

    page = tmp_path / "report.html"
    page.write_text(report_html(synthetic_class(), title="Lab 07, synthetic class"))
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--window-size=1300,2400",
                 f"--user-data-dir={tmp_path / 'chrome'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
    try:
        driver.get(page.as_uri())
        images = driver.find_elements(By.TAG_NAME, "img")
        assert len(images) == 3
        assert all(driver.execute_script("return arguments[0].complete && "
                                         "arguments[0].naturalWidth > 200", img)
                   for img in images)
        table = driver.find_element(By.CSS_SELECTOR, "table.sortable")
        headers = [th.text for th in table.find_elements(By.TAG_NAME, "th")]
        score = headers.index("score")

        def column() -> list[float]:
            return [float(r.find_elements(By.TAG_NAME, "td")[score].text)
                    for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")]

        table.find_elements(By.TAG_NAME, "th")[score].click()
        assert column() == sorted(column())
        table.find_elements(By.TAG_NAME, "th")[score].click()
        assert column() == sorted(column(), reverse=True)
        assert "student05<i>" in table.text, "student names shown as text, not markup"
        driver.execute_script("window.scrollTo(0, 0)")
        driver.save_screenshot(str(tmp_path / "report.png"))
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
        print(f"screenshot: {tmp_path / 'report.png'}")
    finally:
        driver.quit()
