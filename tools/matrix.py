"""``make matrix``: every chapter and the behaviour pins, on each PyTorch release of RELEASES.

For each release: a virtual environment ``_build/matrix/<release>/venv`` with that torch and
the pinned versions (requirements.txt) of what nbval and the pin tests need (kept between runs:
a re-run reuses it and only runs the tests), then strict nbval on every chapter notebook and
every behaviour pin (``tests/test_pytorch_releases.py`` and the other ``test_pytorch_*`` tests),
with the book's own pytest settings. A release that fails
to install is reported and the others still run. Progress goes to the terminal as it runs.

The results are written to ``book/verified/matrix.json`` (per release and chapter: the cells
that match and, for each cell that does not, the first differing lines; per release, the
behaviour pins that failed), with the content hash of ``notebooks/`` and ``snippets/``, and a
summary to ``snippets/matrix_data.py``, which ``snippets.versions`` reads (on Colab too).

    python tools/matrix.py                      # every release of RELEASES
    python tools/matrix.py --releases 2.14.1    # some of them
    python tools/matrix.py --publish-only       # rebuild the JSON from the last results
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import pprint
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.content_hash import content_hash  # noqa: E402

MATRIX_DIR = ROOT / "_build" / "matrix"
PUBLISHED = ROOT / "book" / "verified" / "matrix.json"
SUMMARY = ROOT / "snippets" / "matrix_data.py"
REQUIREMENTS = ROOT / "requirements.txt"
PIN_TESTS = "tests/test_pytorch_releases.py"
# The book's own sanitize file: the device suffix, and the release line of snippets.versions
# (the first line of each chapter, which names the release it runs on).
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
SCHEMA = 1

# THE list of releases the matrix checks, besides the pin (read from requirements.txt).
# 2.14.1 is the newest release this build machine's pip allows (a constraint caps torch);
# 2.10.0 dates the start of take_along_dim's wrapping (2.9.1 raises, 2.10.0 wraps).
OTHER_RELEASES = ("2.9.1", "2.10.0", "2.11.0", "2.12.1", "2.14.1")
# What nbval, the pin tests and the chapters need besides torch (matplotlib: the performance
# chapter's plots), at the versions requirements.txt pins.
NEEDED = (
    "numpy",
    "ipykernel",
    "nbclient",
    "nbformat",
    "nbval",
    "pytest",
    "hypothesis",
    "matplotlib",
)


def pinned() -> dict[str, str]:
    """``{name: version}`` of requirements.txt's exact pins."""
    pins = {}
    for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\s*([A-Za-z0-9_.-]+)==([^\s;#]+)", line)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def pin_release() -> str:
    return pinned()["torch"]


def releases() -> list[str]:
    """The pin first, then OTHER_RELEASES (oldest first), without duplicates."""
    found = [pin_release()]
    found += [r for r in sorted(OTHER_RELEASES, key=version_key) if r not in found]
    return found


def version_key(version: str) -> tuple[int, ...]:
    """``"2.13.0+cpu"`` -> ``(2, 13, 0)``.

    >>> version_key("2.13.0+cpu") < version_key("2.14.1")
    True
    """
    return tuple(int(p) for p in re.findall(r"\d+", version.split("+")[0])[:3])


def chapters() -> list[str]:
    return sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))


def say(message: str) -> None:
    stamp = dt.datetime.now().strftime("%H:%M:%S")
    print(f"[matrix {stamp}] {message}", flush=True)


def requirement_lines(release: str) -> list[str]:
    pins = pinned()
    return [f"torch=={release}"] + [f"{name}=={pins[name]}" for name in NEEDED if name in pins]


def ensure_venv(release: str) -> tuple[Path | None, str]:
    """The venv's python for ``release`` (created or reused), or None and why it failed."""
    folder = MATRIX_DIR / release
    venv = folder / "venv"
    python = venv / "bin" / "python"
    wanted = "\n".join(requirement_lines(release)) + "\n"
    stamp = venv / ".matrix-installed"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        say(f"torch {release}: reusing {venv.relative_to(ROOT)}")
        return python, ""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "install.log"
    say(f"torch {release}: installing into {venv.relative_to(ROOT)} (log: {log.relative_to(ROOT)})")
    started = time.time()
    with log.open("w", encoding="utf-8") as out:
        steps = [
            [sys.executable, "-m", "venv", str(venv)],
            [str(python), "-m", "pip", "install", "--progress-bar", "off", *wanted.split()],
        ]
        for step in steps:
            out.write("$ " + " ".join(step) + "\n")
            out.flush()
            done = subprocess.run(step, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
            if done.returncode != 0:
                tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
                errors = [ln for ln in tail if "ERROR" in ln] or tail[-3:]
                return None, " / ".join(errors[-3:])
    stamp.write_text(wanted)
    say(f"torch {release}: installed in {time.time() - started:.0f} s")
    return python, ""


def run_release(release: str, python: Path) -> dict[str, Any]:
    folder = MATRIX_DIR / release
    result_path = folder / "result.json"
    result_path.unlink(missing_ok=True)
    env = {
        **os.environ,
        "TORCH_DEVICE": "cpu",
        "PYTHONPATH": str(ROOT),
        "MATRIX_RESULT": str(result_path),
        "BOOK_REPORT_DIR": str(folder / "reports"),  # never the book's own _build/reports
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    command = [
        str(python),
        "-m",
        "pytest",
        "-p",
        "tools.matrix_plugin",
        f"--nbval-sanitize-with={SANITIZE}",
        "-vv",  # whole diffs, not "Full output truncated"
        "-m",
        "not site",
        "-k",
        "ipynb or pytorch_",  # every notebook cell, and every test_pytorch_* behaviour pin
        "notebooks",
        "tests",
    ]
    say(f"torch {release}: nbval on {len(chapters())} chapters, then the behaviour pins")
    started = time.time()
    verified = content_hash(ROOT)  # what this run checks (before it starts)
    log = folder / "pytest.log"
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert process.stdout is not None
        for line in process.stdout:
            out.write(line)
            if "matrix: " in line:
                say(f"torch {release}: {line.split('matrix: ', 1)[1].strip()}")
        process.wait()
    took = time.time() - started
    if not result_path.exists():
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
        return {"status": "failed to run", "error": " / ".join(tail), "duration_s": round(took)}
    result = json.loads(result_path.read_text(encoding="utf-8"))
    result["status"] = "ran"
    result["duration_s"] = round(took)
    result["content_hash"] = verified
    result["date"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    result_path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    say(f"torch {release}: done in {took:.0f} s")
    return result


_SITE_PACKAGES = re.compile(r"(?:/[^\s/'\"]+)+/site-packages/")


def without_paths(line: str) -> str:
    """``line`` without this machine's paths (the book never shows one).

    >>> without_paths("File /a/b/_build/matrix/2.9.1/venv/lib/python3.11/site-packages/torch/_ops.py:841")
    'File <site-packages>/torch/_ops.py:841'
    """
    line = _SITE_PACKAGES.sub("<site-packages>/", line)
    return line.replace(str(ROOT) + "/", "").replace(str(ROOT), "<book>")


def cleaned(result: dict[str, Any]) -> dict[str, Any]:
    """A release's result with every recorded line passed through :func:`without_paths`."""
    for notebook in result.get("notebooks", {}).values():
        for difference in notebook["differ"]:
            difference["lines"] = [without_paths(line) for line in difference["lines"]]
            # nbval's "Cell N" counts code cells from 0; readers see them from 1 (the stored
            # execution counts are 1, 2, 3, ...: tests/test_notebooks.py checks it).
            if difference.get("cell") is not None:
                difference["code_cell"] = difference["cell"] + 1
    for pin in result.get("pins", {}).values():
        if "message" in pin:
            pin["message"] = [without_paths(line) for line in pin["message"]]
    return result


def load_previous() -> dict[str, Any]:
    if PUBLISHED.exists():
        return json.loads(PUBLISHED.read_text(encoding="utf-8"))
    return {}


def summary(matrix: dict[str, Any]) -> dict[str, Any]:
    """What ``snippets.versions`` needs: per release, the chapters' differing cell numbers."""
    out: dict[str, Any] = {
        "pin": matrix["pin"],
        "content_hash": matrix["content_hash"],
        "date": matrix["date"],
        "releases": {},
    }
    for release, entry in matrix["releases"].items():
        if entry.get("status") != "ran":
            out["releases"][release] = {"status": entry.get("status")}
            continue
        out["releases"][release] = {
            "status": "ran",
            "torch_version": entry["torch_version"],
            "chapters": {
                name: {
                    "cells": nb["cells"],
                    "matched": nb["matched"],
                    "differ": [d.get("code_cell", d["cell"]) for d in nb["differ"]],
                }
                for name, nb in entry["notebooks"].items()
            },
        }
    return out


def write_summary(matrix: dict[str, Any]) -> None:
    body = pprint.pformat(summary(matrix), width=96, sort_dicts=True)
    SUMMARY.write_text(
        '"""Generated by `make matrix` (tools/matrix.py) from book/verified/matrix.json: do not edit.\n\n'
        "Per PyTorch release of the version matrix, the cells of each chapter that matched the\n"
        'stored outputs, and the numbers of those that did not. Read by snippets.versions."""\n\n'
        "# fmt: off\n"
        f"MATRIX = {body}\n"
        "# fmt: on\n",
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/matrix.py", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--releases",
        help="comma-separated releases (default: the pin and " + ", ".join(OTHER_RELEASES) + ")",
    )
    parser.add_argument("--publish-only", action="store_true", help="only rebuild the JSON")
    args = parser.parse_args(argv)
    chosen = args.releases.split(",") if args.releases else releases()
    started = time.time()
    last = load_previous()
    previous = last.get("releases", {})
    results: dict[str, Any] = {}
    say(f"releases: {', '.join(chosen)}; chapters: {', '.join(chapters())}")
    for index, release in enumerate(chosen, 1):
        say(f"[{index}/{len(chosen)}] torch {release}")
        if args.publish_only:
            path = MATRIX_DIR / release / "result.json"
            if path.exists():
                results[release] = json.loads(path.read_text(encoding="utf-8"))
            continue
        python, error = ensure_venv(release)
        if python is None:
            say(f"torch {release}: FAILED TO INSTALL: {error}")
            results[release] = {"status": "failed to install", "error": error}
            continue
        results[release] = run_release(release, python)
    # Releases not run this time keep their last published result (same content hash or not:
    # the page marks each release whose hash differs from the book's as stale).
    for release, entry in previous.items():
        results.setdefault(release, entry)
    results = {release: cleaned(entry) for release, entry in results.items()}
    now_hash = content_hash(ROOT)
    ordered = dict(sorted(results.items(), key=lambda item: version_key(item[0])))
    matrix = {
        "schema": SCHEMA,
        "kind": "matrix",
        "pin": pin_release(),
        "chapters": chapters(),
        "content_hash": now_hash,
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python_version": platform.python_version(),
        "device_type": "cpu",
        # how long the last real run took (a --publish-only run keeps it)
        "duration_s": last.get("duration_s") if args.publish_only else round(time.time() - started),
        "requirements_sha256": hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12],
        "releases": ordered,
    }
    PUBLISHED.parent.mkdir(parents=True, exist_ok=True)
    PUBLISHED.write_text(json.dumps(matrix, indent=2) + "\n", encoding="utf-8")
    write_summary(matrix)
    say(f"wrote {PUBLISHED.relative_to(ROOT)} and {SUMMARY.relative_to(ROOT)}")
    for release, entry in ordered.items():
        if entry.get("status") != "ran":
            say(f"  torch {release}: {entry.get('status')}")
            continue
        cells = sum(nb["cells"] for nb in entry["notebooks"].values())
        matched = sum(nb["matched"] for nb in entry["notebooks"].values())
        pins_failed = [k for k, v in entry.get("pins", {}).items() if v["outcome"] == "failed"]
        say(f"  torch {release}: {matched}/{cells} cells match, {len(pins_failed)} pin tests fail")
    say(f"make matrix took {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
