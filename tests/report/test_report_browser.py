"""A real browser renders the report: headless Chromium (Debian's package) takes a screenshot
and dumps the DOM. Runs in CI (`.ci/run` installs chromium); skips elsewhere when absent."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

import fairaudit as fa

pytestmark = pytest.mark.browser

EVIL = "<script>alert(1)</script>"  # the group label of the script_group_data fixture


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("chromium is not installed, but CI=true requires the browser test to run")
    pytest.skip("chromium is not installed (apt-get install chromium); CI runs this test")


def _run(chromium: str, profile, *args: str) -> subprocess.CompletedProcess:
    command = [
        chromium, "--no-sandbox", "--headless", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", *args,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=240)


@pytest.fixture(scope="module")
def report_file(tmp_path_factory, script_group_data):
    n = 3000
    frame, _ = script_group_data(seed=11, n=n, sexes=("Female", "Male"), rates=(0.15, 0.4))
    gm = fa.group_metrics(
        frame["y"], frame["pred"], sensitive_features=frame[["sex", "race"]],
        n_boot=200, random_state=0,
    )  # fmt: skip
    policy = fa.Policy.from_dict(
        {"version": 1, "name": "gate", "rules": [
            {"id": "four-fifths", "metric": "selection_rate", "min": 0.8, "sensitive_feature": "sex"}
        ]}
    )  # fmt: skip
    report = fa.Report(title="Browser check", inputs={"rows": n})
    report.add(policy.check(gm)).add(gm.marginal("sex")).add(gm)
    return report.save(tmp_path_factory.mktemp("browser") / "report.html")


def test_screenshot_is_not_blank(report_file, tmp_path):
    chromium = _chromium()
    shot = tmp_path / "report.png"
    done = _run(
        chromium, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,2000",
        report_file.as_uri(),
    )  # fmt: skip
    assert shot.exists(), done.stderr[-2000:]
    image = pytest.importorskip("matplotlib.image").imread(shot)
    assert image.shape[:2] == (2000, 1200)
    gray = image[..., :3].mean(axis=-1)
    # text, tables, the red verdict: a rendered page is far from a blank white one
    assert (gray < 0.9).mean() > 0.03
    assert gray.std() > 0.05


def test_dom_contains_the_summary_and_no_script(report_file, tmp_path):
    chromium = _chromium()
    done = _run(chromium, tmp_path / "profile", "--dump-dom", report_file.as_uri())
    dom = done.stdout
    assert 'id="summary-table"' in dom, done.stderr[-2000:]
    assert "FAILED: 1 of 1 checks failed" in dom
    assert 'id="failed-checks"' in dom
    assert "<svg" in dom
    # the group named <script>alert(1)</script> is text in the page, not an element
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "<script" not in dom.lower()
