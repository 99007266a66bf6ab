"""build_installer.py's wheel, icons and errors, run for real on small inputs."""

from __future__ import annotations

import importlib.util
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import build_installer as plan

REPO_ROOT = Path(plan.__file__).parent

FAKE_PYPROJECT = """\
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "fakeproject"
version = "1.0"

[tool.setuptools]
packages = ["pkg"]

[tool.setuptools.package-data]
pkg = ["*.json"]
"""


def wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


@pytest.mark.parametrize("checkout", ["git", "plain folder"])
def test_a_wheel_leaves_out_what_was_deleted_since_the_last_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, checkout: str
) -> None:
    """setuptools built in the checkout's build/ and never emptied build/lib: a module
    removed from the tree, or a renamed demo log, still went into the release wheel."""
    if checkout == "git" and shutil.which("git") is None:
        pytest.skip("git is not installed")
    tree = tmp_path / "tree"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pyproject.toml").write_text(FAKE_PYPROJECT)
    (tree / "pkg" / "__init__.py").write_text("")
    (tree / "pkg" / "gone.py").write_text("")
    (tree / "pkg" / "old-name.json").write_text("{}")
    if checkout == "git":
        # No .gitignore: build/ and the egg-info are left out of the copy all the same.
        subprocess.run(["git", "init", "-q", str(tree)], check=True)
        subprocess.run(["git", "add", "pkg", "pyproject.toml"], cwd=tree, check=True)
    # PyInstaller's work folder shares build/ with setuptools: it stays as it is.
    (tree / "build" / "burnmeter").mkdir(parents=True)
    (tree / "build" / "burnmeter" / "keep").write_text("")
    monkeypatch.setattr(plan, "ROOT", tree)
    dist = tmp_path / "dist"

    first = plan.build_wheel(dist)
    assert {"pkg/gone.py", "pkg/old-name.json"} <= wheel_names(first)

    # What an in-place build leaves behind, then the tree changes (`git rm`, `git mv`).
    stale = tree / "build" / "lib" / "pkg"
    stale.mkdir(parents=True, exist_ok=True)
    (stale / "gone.py").write_text("")
    (stale / "old-name.json").write_text("{}")
    (tree / "pkg" / "gone.py").unlink()
    (tree / "pkg" / "old-name.json").rename(tree / "pkg" / "new-name.json")

    second = plan.build_wheel(dist)

    assert second == first  # same name and version: the new wheel replaces the old one
    names = wheel_names(second)
    assert "pkg/new-name.json" in names and "pkg/__init__.py" in names
    assert "pkg/gone.py" not in names and "pkg/old-name.json" not in names
    assert (tree / "build" / "burnmeter" / "keep").exists()


def test_the_copy_for_a_wheel_skips_build_outputs_and_caches(tmp_path: Path) -> None:
    for name in (
        "pyproject.toml",
        "pkg/__init__.py",
        "pkg/__pycache__/x.cpython-311.pyc",
        "build/lib/pkg/gone.py",
        "dist/old.whl",
        ".venv/bin/python",
        "fake.egg-info/SOURCES.txt",
        "resources/editors/vscode/node_modules/a/index.js",
        "resources/editors/vscode/package.json",
        "resources/demo/build/kept.json",  # only the top-level build/ is setuptools'
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    assert plan.source_files(tmp_path) == [
        "pkg/__init__.py",
        "pyproject.toml",
        "resources/demo/build/kept.json",
        "resources/editors/vscode/package.json",
    ]


@pytest.mark.skipif(importlib.util.find_spec("PySide6") is None, reason="needs PySide6")
def test_icons_render_with_the_installed_pyside6(tmp_path: Path) -> None:
    """`--icons` ended in ValueError with PySide6 6.11: QImage.save(path, b'PNG')."""
    svg = tmp_path / "burnmeter.svg"
    shutil.copy(plan.ICON_SVG, svg)
    # Its own process: the QGuiApplication it makes must not become the test run's.
    script = (
        "import sys; from pathlib import Path; import build_installer as plan; "
        "print(*plan.render_icons(Path(sys.argv[1]), (16, 48)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(svg)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for size in (16, 48):
        png = (tmp_path / f"burnmeter-{size}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", png[16:24]) == (size, size)


def run_build_installer(*args: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    script = f"{prelude}import sys, build_installer; sys.exit(build_installer.main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_icons_without_pyside6_say_what_to_install() -> None:
    """It was a ModuleNotFoundError traceback."""
    done = run_build_installer(
        "--icons", prelude="import sys; sys.modules['PySide6'] = None  # no PySide6\n"
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "rendering the icons needs PySide6" in done.stderr
    assert "pip install -e '.[build]'" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("flag", ["--wheel", "--vsix", "--bundle"])
def test_a_file_where_the_output_folder_goes_is_one_line(tmp_path: Path, flag: str) -> None:
    """`--dist FILE` was a FileExistsError traceback."""
    afile = tmp_path / "afile"
    afile.write_text("mine")

    done = run_build_installer(flag, "--dist", str(afile))

    assert done.returncode == 2, done.stderr
    assert done.stderr == f"build_installer.py: error: --dist {afile} is a file, not a folder\n"
    assert afile.read_text() == "mine"

    below = run_build_installer(flag, "--dist", str(afile / "sub"))
    assert below.returncode == 2, below.stderr
    assert below.stderr.startswith("build_installer.py: error: cannot make the --dist folder")
    assert below.stderr.count("\n") == 1 and "Traceback" not in below.stderr


def test_the_wheel_carries_the_mit_licence_text(tmp_path: Path) -> None:
    """pyproject.toml said `license = "MIT"`, but there was no LICENSE file: the wheel and
    the sdist carried no licence text."""
    import tomllib

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    for pattern in project["license-files"]:
        assert list(REPO_ROOT.glob(pattern)), pattern  # what the sdist takes too
    licence = (REPO_ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License\n")
    assert "Copyright (c) 2026 the burnmeter developers" in licence

    wheel = plan.build_wheel(tmp_path)

    with zipfile.ZipFile(wheel) as archive:
        info = f"burnmeter-{plan.version()}.dist-info"
        assert archive.read(f"{info}/licenses/LICENSE").decode() == licence
        metadata = archive.read(f"{info}/METADATA").decode()
    assert "License-Expression: MIT" in metadata and "License-File: LICENSE" in metadata
