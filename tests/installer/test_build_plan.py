"""What build_installer.py puts into the bundle and leaves out, checked without building."""

from __future__ import annotations

import importlib.util
import json
import plistlib
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import build_installer as plan

REPO_ROOT = Path(plan.__file__).parent


def load_entry_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("burnmeter_entry", plan.ENTRY_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_entry_runs_the_tray_under_the_tray_executable_name() -> None:
    entry = load_entry_module()
    assert entry.argv_for("/opt/burnmeter/burnmeter-tray", []) == ["tray"]
    assert entry.argv_for("C:/burnmeter/burnmeter-tray.exe", ["--demo"]) == ["tray", "--demo"]
    assert entry.argv_for("/opt/burnmeter/burnmeter", ["report", "daily"]) == ["report", "daily"]
    # The tray re-runs its own executable for CLI work (summary export): not the tray again.
    summary = ["summary", "--last-week", "-o", "/tmp/w.html"]
    assert entry.argv_for("/opt/burnmeter/burnmeter-tray", summary) == summary


def test_resources_land_where_frozen_code_looks(tmp_path: Path) -> None:
    resources = tmp_path / "resources"
    (resources / "icons").mkdir(parents=True)
    (resources / "icons" / "burnmeter.svg").write_text("<svg/>")
    (resources / "price_overrides.json").write_text("{}")
    node = resources / "editors" / "vscode" / "node_modules" / "vsce"
    node.mkdir(parents=True)
    (node / "index.js").write_text("")
    (resources / "editors" / "vscode" / "package.json").write_text("{}")
    (resources / "editors" / "vscode" / "burnmeter-0.1.0.vsix").write_text("")

    datas = plan.resource_datas(resources)

    assert sorted(datas) == sorted(
        [
            (str(resources / "editors/vscode/package.json"), "resources/editors/vscode"),
            (str(resources / "icons/burnmeter.svg"), "resources/icons"),
            (str(resources / "price_overrides.json"), "resources"),
        ]
    )


def test_real_resources_include_prices_desktop_entry_and_icons() -> None:
    destinations = {(Path(dest) / Path(src).name).as_posix() for src, dest in plan.resource_datas()}
    for needed in (
        "resources/price_overrides.json",
        "resources/burnmeter.desktop",
        "resources/icons/burnmeter.svg",
        "resources/icons/burnmeter-256.png",
    ):
        assert needed in destinations


def test_unneeded_qt_files_are_dropped_and_the_rest_kept() -> None:
    toc = [
        ("PySide6/Qt/lib/libQt6Widgets.so.6", "/x/libQt6Widgets.so.6", "BINARY"),
        ("PySide6/Qt/lib/libQt6Quick.so.6", "/x/libQt6Quick.so.6", "BINARY"),
        ("PySide6/Qt/qml/QtQuick/qmldir", "/x/qmldir", "DATA"),
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "/x/libqxcb.so", "BINARY"),
        ("PySide6/Qt/plugins/platforms/libqeglfs.so", "/x/libqeglfs.so", "BINARY"),
        ("PySide6\\Qt\\plugins\\platforms\\libqvnc.dll", "/x/libqvnc.dll", "BINARY"),
    ]
    kept = [dest for dest, _, _ in plan.without_excluded(toc)]
    assert kept == ["PySide6/Qt/lib/libQt6Widgets.so.6", "PySide6/Qt/plugins/platforms/libqxcb.so"]


def test_webengine_and_dev_tools_are_excluded() -> None:
    for module in ("PySide6.QtWebEngineCore", "PySide6.QtQuick", "pytest", "PyInstaller"):
        assert module in plan.EXCLUDED_MODULES
    assert not any(m in plan.EXCLUDED_MODULES for m in ("PySide6.QtWidgets", "PySide6.QtSvg"))


def test_macos_bundle_has_no_dock_icon() -> None:
    info = plan.macos_info_plist()
    assert info["LSUIElement"] is True
    assert info["CFBundleShortVersionString"] == plan.version()
    # PyInstaller merges this into Info.plist: every value must survive plist encoding.
    assert plistlib.loads(plistlib.dumps(info)) == info


def test_spec_and_entry_exist_and_name_both_executables() -> None:
    spec = plan.SPEC_FILE.read_text()
    assert plan.ENTRY_SCRIPT.exists()
    assert "plan.CLI_EXECUTABLE" in spec and "plan.TRAY_EXECUTABLE" in spec
    assert "info_plist=plan.macos_info_plist()" in spec


def test_parse_args_defaults_to_the_bundle_and_all_means_everything() -> None:
    default = plan.parse_args([])
    assert default.bundle and not (default.vsix or default.wheel or default.archive)
    everything = plan.parse_args(["--all"])
    assert everything.bundle and everything.archive and everything.vsix and everything.wheel
    only_vsix = plan.parse_args(["--vsix"])
    assert only_vsix.vsix and not only_vsix.bundle


def test_platform_tag_names_this_platform() -> None:
    tag = plan.platform_tag()
    assert tag.startswith({"linux": "linux", "darwin": "macos", "win32": "windows"}[sys.platform])


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm (Node.js) is not installed")
def test_vsix_comes_from_the_extension_packaging_script(tmp_path: Path) -> None:
    extension = tmp_path / "vscode"
    extension.mkdir()
    # A packaging script standing in for vsce: writes NAME-VERSION.vsix like vsce does.
    script = "require('fs').writeFileSync('burnmeter-9.9.9.vsix', 'PK')"
    manifest = {
        "name": "burnmeter",
        "version": "9.9.9",
        "scripts": {"package": f'node -e "{script}"'},
    }
    (extension / "package.json").write_text(json.dumps(manifest))
    dist = tmp_path / "dist"

    built = plan.build_vsix(dist, extension)

    assert built == dist / "burnmeter-9.9.9.vsix"
    assert built.read_bytes() == b"PK"
    assert not (extension / "burnmeter-9.9.9.vsix").exists()
    assert not (extension / "node_modules").exists()  # no dependencies: nothing installed


def test_vsix_without_an_extension_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"package\.json missing"):
        plan.build_vsix(tmp_path / "dist", tmp_path / "nothing-here")


def test_archive_unpacks_to_the_bundle_folder(tmp_path: Path) -> None:
    folder = tmp_path / "dist" / "burnmeter"
    (folder / "_internal" / "resources").mkdir(parents=True)
    (folder / "burnmeter").write_text("#!/bin/sh\n")
    (folder / "_internal" / "resources" / "price_overrides.json").write_text("{}")

    archive = plan.archive_bundle(plan.BundleBuild(folder, 1.0, 0), tmp_path / "dist")

    assert archive.name == f"burnmeter-{plan.version()}-{plan.platform_tag()}.tar.gz"
    with tarfile.open(archive) as unpacked:
        names = set(unpacked.getnames())
    assert {"burnmeter/burnmeter", "burnmeter/_internal/resources/price_overrides.json"} <= names


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to list tracked files")
def test_wheel_ships_every_tracked_resource_and_no_npm_install(tmp_path: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "resources"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    if listed.returncode != 0 or not listed.stdout:
        pytest.skip("not a git checkout")
    # Dotfiles (.gitignore, .vscodeignore) are repository plumbing, not resources.
    tracked = {name for name in listed.stdout.split() if not Path(name).name.startswith(".")}

    wheel = plan.build_wheel(tmp_path)

    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    # The demo history sits in hidden folders, the VS Code extension next to its
    # node_modules (CI runs `npm ci` there before the tests).
    assert tracked <= shipped, sorted(tracked - shipped)[:10]
    assert not [name for name in shipped if "node_modules" in name]


@pytest.mark.skipif(
    not (plan.VSCODE_EXTENSION / "node_modules").is_dir() or shutil.which("npm") is None,
    reason="the VS Code extension's npm packages are not installed (CI runs `npm ci` there)",
)
def test_release_command_packages_the_real_vscode_extension(tmp_path: Path) -> None:
    manifest = json.loads((plan.VSCODE_EXTENSION / "package.json").read_text())

    built = plan.build_vsix(tmp_path)

    assert built == tmp_path / f"{manifest['name']}-{manifest['version']}.vsix"
    with zipfile.ZipFile(built) as vsix:
        names = set(vsix.namelist())
        packaged = json.loads(vsix.read("extension/package.json"))
    assert {"extension.vsixmanifest", "extension/package.json"} <= names
    assert "extension/" + packaged["main"].removeprefix("./") in names
