"""The GitHub Actions workflows (.github/workflows): what they run, and that their lint fails on
a broken workflow. They cannot run here; `make lint` checks them with check-jsonschema and
zizmor, and every job stays a thin call of a make target, so its logic is tested here."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
# Steps that are not a make target: the CI entry point, checks without logic, the newest
# torch release on PyPI (matrix.yml), and opening an issue.
THIN = re.compile(
    r"^(make [\w-]+|bash \.ci/run|nvidia-smi|ls \S+|gh issue create "
    r'|echo "release=\$\(python -m pip index versions torch )'
)


def workflows() -> dict[str, dict]:
    return {
        p.stem: yaml.safe_load(p.read_text(encoding="utf-8"))
        for p in sorted(WORKFLOWS.glob("*.yml"))
    }


def runs(workflow: dict) -> list[str]:
    return [
        " ".join(step["run"].split())
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if "run" in step
    ]


def triggers(workflow: dict) -> dict:
    # PyYAML reads the key `on` as True.
    found = workflow.get("on", workflow.get(True))
    return found if isinstance(found, dict) else {name: None for name in found}


def test_the_four_workflows() -> None:
    found = workflows()
    assert set(found) == {"test", "pages", "matrix", "cuda"}

    test = found["test"]
    assert {"push", "pull_request"} <= set(triggers(test))
    assert runs(test) == ["bash .ci/run"]
    (job,) = test["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest"
    assert job["container"] == "python:3.11-bookworm"  # Debian's chromium, Python 3.11

    pages = found["pages"]
    assert triggers(pages)["push"] == {"branches": ["main"]}
    assert runs(pages) == ["make book"]
    uses = [s.get("uses", "") for j in pages["jobs"].values() for s in j["steps"]]
    assert any(u.startswith("actions/upload-pages-artifact@") for u in uses)
    assert any(u.startswith("actions/deploy-pages@") for u in uses)
    artifact = [
        s for j in pages["jobs"].values() for s in j["steps"] if "upload-pages" in s.get("uses", "")
    ]
    assert artifact[0]["with"]["path"] == "_build/html"

    matrix = found["matrix"]
    assert "schedule" in triggers(matrix)
    assert any(r.startswith("make matrix ") for r in runs(matrix))
    assert any(r.startswith("gh issue create") for r in runs(matrix))

    cuda = found["cuda"]
    (job,) = cuda["jobs"].values()
    assert {"self-hosted", "gpu"} <= set(job["runs-on"])
    assert "make cuda" in runs(cuda)


def test_every_step_is_a_thin_call() -> None:
    for name, workflow in workflows().items():
        for command in runs(workflow):
            assert THIN.match(command), f"{name}: put this logic in the Makefile: {command}"
        for job in workflow["jobs"].values():
            for step in job.get("steps", []):
                assert "${{" not in step.get("run", ""), f"{name}: expressions belong in env"


def _tool(name: str) -> str:
    found = Path(sys.executable).with_name(name)
    if found.exists():
        return str(found)
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (requirements.txt)")
    return path


BROKEN_SCHEMA = """
name: broken
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    step:
      - run: make test
"""

INJECTION = """
name: injection
on: pull_request_target
permissions: {}
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.event.pull_request.title }}"
"""


def test_the_lint_fails_on_a_broken_workflow(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "broken.yml").write_text(BROKEN_SCHEMA)
    schema = subprocess.run(
        [
            _tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            str(folder / "broken.yml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert schema.returncode != 0, schema.stdout
    (folder / "broken.yml").unlink()
    (folder / "injection.yml").write_text(INJECTION)
    audit = subprocess.run(
        [_tool("zizmor"), "--offline", "--no-progress", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert audit.returncode != 0
    assert "template-injection" in audit.stdout + audit.stderr
