"""Build burnmeter's release artefacts: the PyInstaller one-dir bundle, the VS Code
extension (.vsix), a wheel, and the icon PNGs.

    python build_installer.py            # the bundle for this platform (dist/burnmeter/)
    python build_installer.py --vsix     # resources/editors/vscode -> dist/*.vsix
    python build_installer.py --all      # bundle + archive + vsix + wheel: one release
    python build_installer.py --icons    # re-render resources/icons/*.png from the SVG

The PyInstaller wiring lives in `freeze/burnmeter.spec`; what it bundles and leaves out
is decided here, so it can be read and tested in one place.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
SPEC_FILE = ROOT / "freeze" / "burnmeter.spec"
ENTRY_SCRIPT = ROOT / "freeze" / "entry.py"
RESOURCES = ROOT / "resources"
VSCODE_EXTENSION = RESOURCES / "editors" / "vscode"
ICON_SVG = RESOURCES / "icons" / "burnmeter.svg"
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256)
BUNDLE_NAME = "burnmeter"
CLI_EXECUTABLE = "burnmeter"
TRAY_EXECUTABLE = "burnmeter-tray"
MACOS_BUNDLE_ID = "io.github.burnmeter"

# Packages the code base can reach but the bundle never needs: test and build tools that
# live in the dev venv, and big Qt modules a tray app has no use for (WebEngine and
# QML/Quick alone are several hundred MB). Everything else is collected only if imported.
EXCLUDED_MODULES = (
    "tkinter",
    "_tkinter",
    "pytest",
    "_pytest",
    "pytest_qt",
    "pytest_lsp",
    "hypothesis",
    "mypy",
    "ruff",
    "PyInstaller",
    "IPython",
    "numpy",
    # zstandard ships a C and a CFFI backend (12 MB each); CPython always loads the C one.
    "zstandard.backend_cffi",
    "zstandard._cffi",
    "PySide6.QtWebEngineCore",
    "PySide6.QtWebEngineWidgets",
    "PySide6.QtWebEngineQuick",
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickWidgets",
    "PySide6.QtQuickControls2",
    "PySide6.Qt3DCore",
    "PySide6.QtMultimedia",
    "PySide6.QtMultimediaWidgets",
    "PySide6.QtPdf",
    "PySide6.QtPdfWidgets",
    "PySide6.QtDesigner",
    "PySide6.QtUiTools",
    "PySide6.QtHelp",
    # Nothing in burnmeter talks to the network through Qt; PyInstaller only pulls it in
    # because PySide6's package lists it (5 MB with its TLS plugins and Kerberos).
    "PySide6.QtNetwork",
)

# Files PyInstaller's Qt hooks collect that a tray app does not load. Patterns match the
# destination path inside the bundle (forward slashes).
EXCLUDED_FILES = (
    "PySide6/Qt/qml/*",
    "PySide6/Qt/lib/libQt6Quick*",
    "PySide6/Qt/lib/libQt6Qml*",
    "PySide6/Qt/lib/libQt6Pdf*",
    "PySide6/Qt/lib/libQt6VirtualKeyboard*",
    "PySide6/Qt/lib/libQt6EglFS*",
    "PySide6/Qt/lib/libQt6EglFs*",  # libQt6EglFsKmsSupport: its own spelling
    "PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin*",
    "PySide6/Qt/plugins/egldeviceintegrations/*",
    "PySide6/Qt/plugins/platforms/libqeglfs*",
    "PySide6/Qt/plugins/platforms/libqlinuxfb*",
    "PySide6/Qt/plugins/platforms/libqminimalegl*",
    "PySide6/Qt/plugins/platforms/libqvnc*",
    "PySide6/Qt/plugins/platforms/libqvkkhrdisplay*",
    "PySide6/Qt/plugins/imageformats/libqpdf*",
    "PySide6/Qt/lib/libQt6Network*",
    "PySide6/Qt/plugins/networkinformation/*",
    "PySide6/Qt/plugins/tls/*",
    "PySide6/Qt/plugins/generic/libqtuiotouchplugin*",
    "libgssapi_krb5.so*",
    "libkrb5.so*",
    "libkrb5support.so*",
    "libk5crypto.so*",
    # Qt's translations of its own dialogs (7 MB); burnmeter's windows are English.
    "PySide6/Qt/translations/*",
    # The GTK 3 platform theme drags in the build machine's GTK, GDK, Pango, Cairo and ATK
    # (about 15 MB) and would mix them with the user's; without it Qt draws its own
    # dialogs, and the tray icon and menu are unaffected.
    "PySide6/Qt/plugins/platformthemes/libqgtk3*",
    "libgtk-3.so*",
    "libgdk-3.so*",
    "libgdk_pixbuf-2.0.so*",
    "libpango-1.0.so*",
    "libpangocairo-1.0.so*",
    "libpangoft2-1.0.so*",
    "libcairo.so*",
    "libcairo-gobject.so*",
    "libatk-1.0.so*",
    "libatk-bridge-2.0.so*",
    "libatspi.so*",
    "libepoxy.so*",
)

# Folders under resources/ that are build inputs, not things the bundle reads at run time.
SKIPPED_RESOURCE_PARTS = ("node_modules", "__pycache__", ".vscode-test", "dist", "out")

# macOS: the .app runs the tray; LSUIElement keeps it out of the Dock and the app switcher
# (a menu-bar extra), which is what a meter that lives in the menu bar should do.
MACOS_INFO_PLIST = {
    "CFBundleName": "burnmeter",
    "CFBundleDisplayName": "burnmeter",
    "LSUIElement": True,
    "NSHighResolutionCapable": True,
    "LSMinimumSystemVersion": "11.0",
}


def version() -> str:
    sys.path.insert(0, str(ROOT))
    from shared import __version__

    return __version__


def resource_datas(resources: Path = RESOURCES) -> list[tuple[str, str]]:
    """(source file, destination folder) pairs that put resources/ at `resources/` in the
    bundle, where shared.paths.resources_dir() looks when frozen."""
    datas = []
    for path in sorted(resources.rglob("*")):
        relative = path.relative_to(resources)
        if not path.is_file() or any(part in SKIPPED_RESOURCE_PARTS for part in relative.parts):
            continue
        if path.suffix in (".pyc", ".vsix"):
            continue
        datas.append((str(path), str(Path("resources") / relative.parent)))
    return datas


def is_excluded_file(destination: str) -> bool:
    normalised = destination.replace("\\", "/")
    return any(fnmatch.fnmatch(normalised, pattern) for pattern in EXCLUDED_FILES)


def without_excluded(entries: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """A PyInstaller TOC (destination, source, kind) minus EXCLUDED_FILES."""
    return [entry for entry in entries if not is_excluded_file(entry[0])]


def macos_info_plist() -> dict[str, object]:
    return {**MACOS_INFO_PLIST, "CFBundleShortVersionString": version()}


def platform_tag() -> str:
    system = {"darwin": "macos", "win32": "windows"}.get(sys.platform, sys.platform)
    return f"{system}-{platform.machine().lower()}"


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


@dataclass
class BundleBuild:
    folder: Path
    seconds: float
    size_bytes: int

    def describe(self) -> str:
        return (
            f"bundle: {self.folder} ({self.size_bytes / 1e6:,.1f} MB) "
            f"built in {self.seconds:,.0f} s"
        )


def build_bundle(dist: Path, work: Path, *, clean: bool = False) -> BundleBuild:
    """Run PyInstaller on freeze/burnmeter.spec; the bundle lands in dist/burnmeter/."""
    try:
        import PyInstaller.__main__
    except ImportError as exc:
        raise SystemExit(
            "PyInstaller is not installed: pip install -e '.[build]' (or '.[dev]')"
        ) from exc
    args = [
        str(SPEC_FILE),
        "--noconfirm",
        "--log-level=WARN",
        f"--distpath={dist}",
        f"--workpath={work}",
    ]
    if clean:
        args.append("--clean")
    started = time.monotonic()
    PyInstaller.__main__.run(args)
    seconds = time.monotonic() - started
    folder = dist / BUNDLE_NAME
    return BundleBuild(folder, seconds, tree_size(folder))


def bundle_executable(folder: Path, name: str = CLI_EXECUTABLE) -> Path:
    suffix = ".exe" if sys.platform == "win32" else ""
    return folder / f"{name}{suffix}"


def archive_bundle(build: BundleBuild, dist: Path) -> Path:
    base = dist / f"{BUNDLE_NAME}-{version()}-{platform_tag()}"
    if sys.platform == "win32":
        return Path(shutil.make_archive(str(base), "zip", build.folder.parent, build.folder.name))
    target = base.with_name(base.name + ".tar.gz")
    # gzip level 6, tar's default: 15 s here where tarfile's default level 9 took a minute.
    with tarfile.open(target, "w:gz", compresslevel=6) as archive:
        archive.add(build.folder, arcname=build.folder.name)
    return target


def build_vsix(dist: Path, extension: Path = VSCODE_EXTENSION) -> Path:
    """Package the VS Code extension with its own packaging script (`npm run package`, or
    `vsce package` through npx when it has none) and move the .vsix into dist/."""
    manifest_file = extension / "package.json"
    if not manifest_file.exists():
        raise SystemExit(f"no VS Code extension at {extension} (package.json missing)")
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm (Node.js) is needed to package the VS Code extension")
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    wants_modules = manifest.get("dependencies") or manifest.get("devDependencies")
    if wants_modules and not (extension / "node_modules").exists():
        locked = (extension / "package-lock.json").exists()
        subprocess.run(
            [npm, "ci" if locked else "install"],
            cwd=extension,
            check=True,
            stdin=subprocess.DEVNULL,
        )
    before = {path: path.stat().st_mtime for path in _vsix_files(extension)}
    if "package" in manifest.get("scripts", {}):
        subprocess.run([npm, "run", "package"], cwd=extension, check=True, stdin=subprocess.DEVNULL)
    else:
        npx = shutil.which("npx") or "npx"
        subprocess.run(
            [npx, "--yes", "@vscode/vsce", "package"],
            cwd=extension,
            check=True,
            stdin=subprocess.DEVNULL,  # vsce asks questions; in CI nobody answers
        )
    made = [p for p in _vsix_files(extension) if before.get(p) != p.stat().st_mtime]
    if not made:
        raise SystemExit(f"packaging {extension} made no .vsix")
    newest = max(made, key=lambda p: p.stat().st_mtime)
    dist.mkdir(parents=True, exist_ok=True)
    # A release names the file after the extension and its version, whatever the script
    # called it.
    target = dist / f"{manifest.get('name', 'extension')}-{manifest.get('version', '0')}.vsix"
    shutil.move(str(newest), target)
    return target


def _vsix_files(extension: Path) -> list[Path]:
    return [p for p in extension.rglob("*.vsix") if "node_modules" not in p.parts]


def build_wheel(dist: Path, root: Path | None = None) -> Path:
    """A wheel of the tree as it is now, in dist/. It is built from a fresh copy of the
    tree: built in place, setuptools reuses the checkout's build/lib, which it never
    empties, and a module or resource deleted (or renamed) since an earlier build went
    into the wheel all the same."""
    root = root or ROOT
    dist.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="burnmeter-wheel-") as temp:
        source = Path(temp) / "source"
        copy_tree(root, source)
        out = Path(temp) / "wheel"
        pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet"]
        # setuptools warns at length about every data folder under resources/ on each
        # fresh build: its output is shown only when the build fails.
        built = subprocess.run(
            [*pip_wheel, "-w", str(out), str(source)], capture_output=True, text=True
        )
        if built.returncode != 0:
            sys.stderr.write(built.stdout + built.stderr)
            raise SystemExit(f"pip wheel failed (exit status {built.returncode})")
        (made,) = out.glob("*.whl")
        target = dist / made.name
        target.unlink(missing_ok=True)
        shutil.move(str(made), target)
    return target


# What a copy of the tree leaves out, whatever git says: build outputs (setuptools' stale
# build/lib first), caches and installs.
NOT_SOURCE_AT_TOP = ("build", "dist", ".git", ".venv")
NOT_SOURCE = ("__pycache__", "*.pyc", "*.egg-info", "node_modules", ".*_cache", ".hypothesis")


def copy_tree(root: Path, target: Path) -> None:
    """Copy the files of the tree at `root` as they are on disk."""
    for name in source_files(root):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target / name)


def source_files(root: Path) -> list[str]:
    """The tree's files, relative to `root`: in a git checkout the tracked ones still on
    disk and the new ones git does not ignore, else every file; never NOT_SOURCE."""
    listed = _git_files(root)
    if not listed:  # not a checkout, or one that ignores this whole folder
        listed = []
        for folder, folders, files in os.walk(root):
            here = Path(folder).relative_to(root)
            folders[:] = [name for name in folders if is_source(here / name)]
            listed += [(here / name).as_posix() for name in files]
    return sorted(name for name in listed if is_source(Path(name)) and (root / name).is_file())


def is_source(relative: Path) -> bool:
    parts = relative.parts
    if not parts or parts[0] in NOT_SOURCE_AT_TOP:
        return False
    return not any(fnmatch.fnmatch(part, pattern) for part in parts for pattern in NOT_SOURCE)


def _git_files(root: Path) -> list[str] | None:
    git = shutil.which("git")
    if git is None:
        return None
    listed = subprocess.run(
        [git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0:  # not a checkout
        return None
    return [name for name in os.fsdecode(listed.stdout).split("\0") if name]


def render_icons(svg: Path = ICON_SVG, sizes: Sequence[int] = ICON_SIZES) -> list[Path]:
    """Render the SVG icon to resources/icons/burnmeter-<N>.png with Qt's SVG renderer."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QGuiApplication, QImage, QPainter
        from PySide6.QtSvg import QSvgRenderer
    except ImportError as exc:
        raise SystemExit(
            f"rendering the icons needs PySide6 ({exc}): pip install -e '.[build]' (or '.[dev]')"
        ) from exc

    app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg} is not an SVG Qt can render")
    written = []
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        target = svg.with_name(f"burnmeter-{size}.png")
        # Qt takes the format from the .png suffix. Named as b"PNG" (what PySide6's stubs
        # declare), PySide6 6.11 refused the call: ValueError, wrong argument values.
        if not image.save(str(target)):
            raise SystemExit(f"could not write {target}")
        written.append(target)
    del app
    return written


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--bundle", action="store_true", help="the PyInstaller bundle (default)")
    parser.add_argument("--archive", action="store_true", help="also pack the bundle (.tar.gz)")
    parser.add_argument("--vsix", action="store_true", help="the VS Code extension")
    parser.add_argument("--wheel", action="store_true", help="a wheel for pip/pipx")
    parser.add_argument("--all", action="store_true", help="bundle, archive, vsix and wheel")
    parser.add_argument("--icons", action="store_true", help="re-render the icon PNGs")
    parser.add_argument("--clean", action="store_true", help="empty PyInstaller's cache first")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument(
        "--work", type=Path, default=ROOT / "build", help="PyInstaller's work folder"
    )
    args = parser.parse_args(argv)
    if args.all:
        args.bundle = args.archive = args.vsix = args.wheel = True
    if args.archive:
        args.bundle = True
    if not (args.bundle or args.vsix or args.wheel or args.icons):
        args.bundle = True
    return args


def output_folder(path: Path, flag: str) -> Path:
    """`path` as an absolute folder, made if missing; a file in its place is an error."""
    folder = path.resolve()
    if folder.exists() and not folder.is_dir():
        raise SystemExit(f"{flag} {path} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SystemExit(f"cannot make the {flag} folder {path}: {exc.strerror or exc}") from exc
    return folder


def main(argv: Sequence[str] | None = None) -> int:
    """Build what the arguments ask for. A build that cannot go on (a tool missing, a file
    where the output folder should be) says why in one line on stderr and returns 2."""
    try:
        return build(parse_args(argv))
    except SystemExit as exc:
        if not isinstance(exc.code, str):
            raise
        print(f"build_installer.py: error: {exc.code}", file=sys.stderr)
        return 2


def build(args: argparse.Namespace) -> int:
    if args.bundle or args.vsix or args.wheel:
        dist = output_folder(args.dist, "--dist")
    if args.icons:
        for path in render_icons():
            print(f"icon: {path.relative_to(ROOT)}")
    if args.bundle:
        bundle = build_bundle(dist, output_folder(args.work, "--work"), clean=args.clean)
        print(bundle.describe())
        if args.archive:
            print(f"archive: {archive_bundle(bundle, dist)}")
    if args.vsix:
        print(f"vsix: {build_vsix(dist)}")
    if args.wheel:
        print(f"wheel: {build_wheel(dist)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
