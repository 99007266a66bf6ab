"""Build a PyInstaller one-dir bundle of burnmeter (filled in by the installers issue)."""

from __future__ import annotations

import sys


def main() -> int:
    print("build_installer.py: the bundle build is not implemented yet.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
