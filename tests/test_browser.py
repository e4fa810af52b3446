"""JupyterLab in a real browser, as learners use the lab.

Starts JupyterLab from this environment on a free loopback port with a token, drives
Debian's Chromium headless with Playwright, runs notebooks with Run All (in smoke mode),
and drives the explorer of ``08_ladder.ipynb``. Screenshots go to ``build/screenshots/``.

The server works on a temporary copy of the lab (notebooks with ``SMOKE = True``,
``utils/``, the stored results), with its settings, workspaces and checkpoints in that
copy too, so nothing is written back into the checkout.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from utils.common.repo import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO_ROOT / "build" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 "--disable-quic"]

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    # `make test` installs it (`make browser`); on CI a missing browser is a failure.
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} not installed (make browser)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Notebooks that read only stored tables run here as in class (their classroom mode is cheap).
CLASSROOM = {"12_what_the_lab_found.ipynb"}


def _lab_copy(root: Path) -> Path:
    """A throw-away copy of the lab whose notebooks run in smoke mode (those of
    :data:`CLASSROOM` in classroom mode)."""
    lab = root / "lab"
    # Everything tracked that the notebooks read; not the venv, caches or build output.
    shutil.copytree(REPO_ROOT, lab, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "embedded", "__pycache__", ".*_cache", "*.ipynb"))
    for nb in (REPO_ROOT / "notebooks").glob("*.ipynb"):
        data = json.loads(nb.read_text(encoding="utf-8"))
        for cell in data["cells"]:  # what papermill's parameter injection does
            if ("parameters" in cell.get("metadata", {}).get("tags", [])
                    and nb.name not in CLASSROOM):
                src = "".join(cell["source"]).replace("SMOKE = False", "SMOKE = True")
                cell["source"] = src
        (lab / "notebooks" / nb.name).write_text(json.dumps(data), encoding="utf-8")
    settings = root / "settings"
    for plugin, values in {
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                        "checkForUpdates": False},
    }.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")
    return lab


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory, smoke_data_root):
    root = tmp_path_factory.mktemp("browser")
    lab = _lab_copy(root)
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(root / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(root / "workspaces"),
           "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={lab}", "--ServerApp.open_browser=False",
           "--LabApp.news_url=", "--allow-root"]
    log = open(root / "server.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                log.close()
                raise RuntimeError("JupyterLab did not start:\n"
                                   + (root / "server.log").read_text()[-3000:]) from None
            time.sleep(0.5)
    yield {"base": base, "token": token, "lab": lab}
    # Kernels run in their own process groups: shut them down through the API first.
    req = urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST")
    try:
        urllib.request.urlopen(req, timeout=10)
        server.wait(timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
    log.close()


@pytest.fixture(scope="module")
def browser(lab_server):
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    yield pg
    pg.close()


def _open(page, server, name: str) -> None:
    # reset: a fresh workspace, so only this notebook is open
    page.goto(f"{server['base']}/lab/tree/notebooks/{name}?reset&token={server['token']}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    # The toolbar says "idle" before a kernel exists: ask the server for the session.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{server['base']}/api/sessions?token={server['token']}",
                                    timeout=5) as r:
            sessions = json.load(r)
        if any(s["path"].endswith(name) and s["kernel"]["execution_state"] == "idle"
               for s in sessions):
            return
        time.sleep(0.5)
    raise AssertionError(f"no idle kernel for {name} after 90 s")


def _run_all(page, timeout_s: float = 60) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
    deadline = time.monotonic() + timeout_s
    time.sleep(1.0)
    while time.monotonic() < deadline:
        # A hidden input (an exercise's solution) shows an empty prompt: it says nothing
        # either way, so only the visible prompts are read.
        prompts = [p.strip() for p in
                   page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()]
        shown = [p for p in prompts if p]
        if shown and all(p not in ("[*]:", "[ ]:") for p in shown):
            return
        time.sleep(1.0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "run_all_timeout.png"))
    errors = page.locator('.jp-OutputArea-output[data-mime-type='
                          '"application/vnd.jupyter.stderr"]').all_inner_texts()
    raise AssertionError(f"Run All did not finish in {timeout_s} s; prompts: {prompts}; "
                         f"error outputs: {[e[-1500:] for e in errors]}")


def _save_and_read(page, server, name: str) -> dict:
    page.keyboard.press("Control+s")
    page.wait_for_timeout(1500)
    return json.loads((server["lab"] / "notebooks" / name).read_text(encoding="utf-8"))


def _errors(nb: dict) -> list[str]:
    return [f"{o.get('ename')}: {o.get('evalue')}" for c in nb["cells"]
            for o in c.get("outputs", []) if o.get("output_type") == "error"]


@pytest.mark.parametrize("name", ["00_start_here.ipynb", "01_data.ipynb"])
def test_notebook_runs_all_cells_in_jupyterlab(page, lab_server, name):
    _open(page, lab_server, name)
    _run_all(page)
    assert page.locator(".jp-OutputArea-output img").count() >= 1, "no rendered figure"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name[:-6]}.png"), full_page=False)
    nb = _save_and_read(page, lab_server, name)
    assert _errors(nb) == []


def test_explorer_widgets_redraw_the_plot(page, lab_server):
    name = "08_ladder.ipynb"
    _open(page, lab_server, name)
    _run_all(page)
    assert "Error displaying widget" not in page.content()
    explorer = page.locator(".jp-OutputArea-output .jupyter-widgets.widget-vbox").first
    explorer.scroll_into_view_if_needed()
    image = explorer.locator(".widget-output img").first
    image.wait_for(timeout=30_000)
    before = image.get_attribute("src")
    knob = explorer.locator(".widget-dropdown", has_text="gate_activation").locator("select")
    current = knob.input_value()
    options = knob.locator("option").all_inner_texts()
    knob.select_option(label=next(o for o in options if o != current))
    deadline = time.monotonic() + 30
    while image.get_attribute("src") == before and time.monotonic() < deadline:
        time.sleep(0.25)  # the Output widget replaces its image when the plot is redrawn
    assert image.get_attribute("src") != before, "the explorer plot did not change"
    assert "Error displaying widget" not in page.content()
    explorer.screenshot(path=str(SCREENSHOTS / "08_explorer.png"))
    page.screenshot(path=str(SCREENSHOTS / "08_ladder.png"))
    assert _errors(_save_and_read(page, lab_server, name)) == []


def test_the_closing_notebook_states_the_generated_conclusion(page, lab_server):
    """Notebook 12 in classroom mode, as a learner opens it: its figures render and the
    conclusion it shows is the one generated from the stored tables."""
    from utils.lessons.findings import conclusion_sentence

    name = "12_what_the_lab_found.ipynb"
    _open(page, lab_server, name)
    _run_all(page, timeout_s=180)
    assert page.locator(".jp-OutputArea-output img").count() >= 2, "figures not rendered"
    shown = page.locator(".jp-RenderedMarkdown.jp-OutputArea-output").all_inner_texts()
    expected = conclusion_sentence()
    assert any(expected in " ".join(text.split()) for text in shown), (expected, shown)
    page.screenshot(path=str(SCREENSHOTS / "12_what_the_lab_found.png"))
    assert _errors(_save_and_read(page, lab_server, name)) == []
