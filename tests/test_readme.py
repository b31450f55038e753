"""The README's Python example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"


@pytest.mark.slow
def test_readme_example_runs(tmp_path, monkeypatch):
    pytest.importorskip("jinja2")
    text = README.read_text()
    code = re.search(r"## A first audit\n\n```python\n(.*?)```", text, re.S)
    assert code, "README.md lost its '## A first audit' Python example"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code.group(1), str(README), "exec"), namespace)
    gm = namespace["gm"]
    assert gm.sensitive_feature_names == ("sex", "race")
    assert (tmp_path / "audit.html").stat().st_size > 10_000


def _cli_example(text: str) -> str:
    block = re.search(r"From the command line.*?```bash\n(.*?)```", text, re.S)
    assert block, "README.md lost its command-line example"
    return block.group(1)


def test_readme_cli_example_names_real_files():
    """No placeholder: the command reads what the main job writes, through the venv's command."""
    command = _cli_example(README.read_text())
    assert command.startswith(".venv/bin/fairaudit audit build/adult-test-predictions.csv ")
    job = (README.parent / "docs/examples/audit_adult.py").read_text()
    assert 'out / "adult-test-predictions.csv"' in job
    assert (README.parent / "docs/examples/policy.yaml").is_file()
    assert "fairaudit = " in (README.parent / "pyproject.toml").read_text()  # .venv/bin/fairaudit


@pytest.mark.slow
def test_readme_cli_example_runs(tmp_path, monkeypatch):
    """Paste the README's command after the main job's predictions: it runs and gates (exit 1)."""
    import importlib.util
    import shlex
    import shutil

    pytest.importorskip("jinja2")
    from fairaudit.cli import main

    root = README.parent
    spec = importlib.util.spec_from_file_location(
        "audit_adult", root / "docs/examples/audit_adult.py"
    )
    assert spec is not None
    assert spec.loader is not None
    job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(job)
    monkeypatch.chdir(tmp_path)
    job.train_and_predict(Path("build"))  # what the README's main job writes first
    (tmp_path / "docs/examples").mkdir(parents=True)
    shutil.copy(root / "docs/examples/policy.yaml", tmp_path / "docs/examples/policy.yaml")
    lines = _cli_example(README.read_text()).replace("\\\n", " ").splitlines()
    argv = shlex.split(lines[0])
    assert argv[0] == ".venv/bin/fairaudit"
    code = main(argv[1:])
    assert code == 1  # the example policy fails this model, as the README says
    assert (tmp_path / "build/audit.html").stat().st_size > 10_000


@pytest.mark.slow
def test_readme_production_example_runs(tmp_path, monkeypatch):
    """The 'In production' block runs on what the main job writes, and its store serves."""
    import importlib.util

    from fairaudit.cli import _build_parser

    root = README.parent
    text = README.read_text()
    code = re.search(r"## In production\n.*?```python\n(.*?)```", text, re.S)
    assert code, "README.md lost its '## In production' Python example"
    spec = importlib.util.spec_from_file_location(
        "audit_adult", root / "docs/examples/audit_adult.py"
    )
    assert spec is not None
    assert spec.loader is not None
    job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(job)
    monkeypatch.chdir(tmp_path)
    job.train_and_predict(Path("build"))
    namespace: dict = {}
    exec(compile(code.group(1), str(README), "exec"), namespace)
    assert namespace["gm"].sensitive_feature_names == ("sex", "race")
    assert (tmp_path / "build/monitor.db").is_file()
    serve = re.search(r"```bash\n(\.venv/bin/fairaudit monitor serve [^\n]*)\n```", text)
    assert serve, "README.md lost its monitor serve command"
    args = _build_parser().parse_args(serve.group(1).split()[1:])
    assert args.store == "build/monitor.db"
