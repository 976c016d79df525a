"""JupyterLab in a real browser: each notebook, run through the UI, ends clean, with widgets.

The test starts ``jupyter lab`` as ``make lab`` does (on a free loopback port, on copies of
the notebooks so autosave never touches the repository), drives headless Chromium with
Selenium, runs every cell from the Run menu, saves, and checks: no cell left at ``[*]``, no
error output, the ipywidgets controls and tqdm progress bars rendered as widgets, and a
control that changes the figure it drives. A screenshot of each run is kept under the
test's temporary folder (its path is in every failure message).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.name for p in (REPO / "solutions").glob("[0-9][0-9]_*.ipynb"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
RUN_TIMEOUT_S = 300
WIDGET_NOTEBOOKS = {"01", "02", "03", "04", "05", "06", "07", "08", "09"}  # ipywidgets controls
PROGRESS_NOTEBOOKS = {"01", "02", "03", "04", "06", "07", "08", "09"}  # loops under a tqdm bar
# labkit.widgets.progress replaces its tqdm widget by this line when the loop ends (only in a
# kernel where the widget was shown), so a saved notebook holds no half-drawn bar.
PROGRESS_END = re.compile(r"^.+: \d+(/\d+)? \S+ in \d+\.\d s$")

if not (CHROMIUM and DRIVER):
    print("\n*** test_browser: SKIPPED — no Chromium/ChromeDriver (apt-get install chromium "
          "chromium-driver; `make test` does it as root) ***", file=sys.stderr)
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                 reason="no Chromium/ChromeDriver: apt-get install chromium chromium-driver")]
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    for folder in ("solutions", "notebooks"):
        shutil.copytree(REPO / folder, root / folder)
    port, token = _free_port(), "labkit-browser-test"
    jupyter = Path(sys.executable).with_name("jupyter")
    cmd = [str(jupyter), "lab", f"--notebook-dir={root}", "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", f"--IdentityProvider.token={token}",
           "--ServerApp.disable_check_xsrf=True"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")  # as `make lab` adds
    settings = root / "settings"
    for extension, values in {  # render every cell (no virtual scrolling), no news pop-up
            "notebook-extension/tracker": {"windowingMode": "none"},
            "apputils-extension/notification": {"fetchNews": "false",
                                                "checkForUpdates": False}}.items():
        path = settings / "@jupyterlab" / f"{extension}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "JUPYTERLAB_WORKSPACES_DIR": str(root / "workspaces")}
    log = (root / "jupyter.log").open("w")
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=root, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail(f"jupyter lab did not start; see {root / 'jupyter.log'}")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
                 f"--user-data-dir={root / 'chrome'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
    try:
        yield {"driver": driver, "base": base, "token": token, "root": root}
    finally:
        driver.quit()
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _menu(driver, menu: str, item: str) -> None:
    driver.find_element(By.XPATH, f"//li[contains(@class,'lm-MenuBar-item')]"
                                  f"[.//div[text()='{menu}']]").click()
    time.sleep(0.3)
    driver.find_element(By.XPATH, f"//li[contains(@class,'lm-Menu-item')]"
                                  f"[.//div[text()='{item}']]").click()


CURRENT = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the open tab, not earlier notebooks


def _prompts(driver) -> list[str]:
    return [p.text for p in driver.find_elements(By.CSS_SELECTOR,
                                                  f"{CURRENT} .jp-CodeCell .jp-InputPrompt")]


def _run_all(lab, path: str) -> tuple[dict, Path]:
    driver = lab["driver"]
    driver.get(f"{lab['base']}/lab/tree/{path}?token={lab['token']}")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:  # the notebook open, its kernel idle
        status = driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-CodeCell")
        idle = driver.find_elements(By.XPATH, "//*[contains(@title,'Kernel status: Idle') or "
                                              "contains(@data-status,'idle')]")
        if status and idle:
            break
        time.sleep(1)
    time.sleep(2)
    _menu(driver, "Run", "Run All Cells")
    shot = lab["root"] / f"{path.replace('/', '_')}.png"
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        time.sleep(2)
        prompts = _prompts(driver)
        if prompts and all(p.strip() not in ("[*]:", "[ ]:", "") for p in prompts):
            break
    driver.save_screenshot(str(shot))
    left = [p for p in _prompts(driver) if p.strip() in ("[*]:", "[ ]:", "")]
    assert not left, f"{path}: {len(left)} cells did not finish in {RUN_TIMEOUT_S} s ({shot})"
    _menu(driver, "File", "Save Notebook")
    time.sleep(2)
    url = f"{lab['base']}/api/contents/{path}?content=1&token={lab['token']}"
    saved = json.loads(urllib.request.urlopen(url, timeout=30).read())["content"]
    return saved, shot


def _errors(saved: dict) -> list[str]:
    return [f"cell {i}: {o.get('ename')}: {o.get('evalue', '')[:120]}"
            for i, cell in enumerate(saved["cells"]) for o in cell.get("outputs", [])
            if o.get("output_type") == "error"]


def _finished_bars(saved: dict) -> list[str]:
    """The end lines of labkit's progress bars in the saved notebook."""
    texts = ["".join(o.get("data", {}).get("text/plain", ""))
             for cell in saved["cells"] for o in cell.get("outputs", [])
             if o.get("output_type") in ("display_data", "update_display_data")]
    return [t for t in texts if PROGRESS_END.match(t)]


def _figures(driver) -> list[str]:
    """What the explore widgets show: their images and their HTML (tables, text)."""
    images = [img.get_attribute("src")[-200:] for img in driver.find_elements(
        By.CSS_SELECTOR, f"{CURRENT} .widget-image, {CURRENT} .widget-output img")]
    return images + [e.text for e in driver.find_elements(By.CSS_SELECTOR,
                                                           f"{CURRENT} .widget-html")]


def _change_a_control(driver) -> bool:
    """Move a slider one step (or pick another dropdown entry): did a figure change?"""
    before = _figures(driver)
    handles = driver.find_elements(By.CSS_SELECTOR, f"{CURRENT} .widget-slider .noUi-handle")
    selects = driver.find_elements(By.CSS_SELECTOR, f"{CURRENT} .widget-dropdown select")
    if handles:
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", handles[0])
        handles[0].click()
        handles[0].send_keys(Keys.ARROW_RIGHT)
    elif selects:
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", selects[0])
        Select(selects[0]).select_by_index(1)
    else:
        return False
    for _ in range(30):
        time.sleep(1)
        if _figures(driver) != before:
            return True
    return False


# Every student copy, and the solutions of 00-03 (the suite's time budget: each browser run
# costs a full execution; the headless test runs every solution too).
CASES = [("notebooks", n) for n in NOTEBOOKS] + [("solutions", n) for n in NOTEBOOKS
                                                 if n[:2] in ("00", "01", "02", "03")]


@pytest.mark.parametrize("folder, name", CASES)
def test_notebook_runs_in_jupyterlab(warm_zoo, lab, folder, name):
    saved, shot = _run_all(lab, f"{folder}/{name}")
    driver = lab["driver"]
    assert _errors(saved) == [], f"{folder}/{name}: error outputs ({shot})"
    loading = [e for e in driver.find_elements(By.XPATH, "//*[contains(text(),'Loading widget')]")
               if e.is_displayed()]
    assert not loading, f"{folder}/{name}: widgets did not render ({shot})"
    if name[:2] in WIDGET_NOTEBOOKS:
        controls = driver.find_elements(By.CSS_SELECTOR,
                                        f"{CURRENT} .widget-slider, {CURRENT} .widget-dropdown")
        bars = driver.find_elements(By.CSS_SELECTOR, f"{CURRENT} .widget-hprogress")
        assert controls, f"{folder}/{name}: no ipywidgets control rendered ({shot})"
        if name[:2] in PROGRESS_NOTEBOOKS:
            assert bars or _finished_bars(saved), (
                f"{folder}/{name}: no tqdm progress bar rendered as a widget ({shot})")
        changed = _change_a_control(driver)
        driver.save_screenshot(str(shot.with_name(shot.stem + "-widget.png")))
        assert changed, f"{folder}/{name}: the control changed no figure ({shot})"
