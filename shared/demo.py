"""The bundled demo history (`--demo`), made current: a copy whose every time is moved
forward by one fixed amount, so its latest activity lands two minutes before now and the
today, this-week and running-session views have something to show.

The history itself (`resources/demo/home`) is synthetic, written by
`bench/generate_corpus.py`; only times change in the copy, never token counts.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.paths import demo_history_dir

# How long before now the demo's latest activity appears: well inside the window in which a
# session counts as running (RUNNING_WINDOW_MS, 10 minutes), so the tray's menu, its icon's
# dot and the language server's status show one for the first minutes of a demo.
LATEST_BEFORE_NOW = timedelta(minutes=2)
ISO_TIME = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")
RESETS_AT = re.compile(rb'("resets_at":)(\d+)')
# Codex names folders and files after the session's start: sessions/YYYY/MM/DD/
# rollout-YYYY-MM-DDTHH-MM-SS-<id>.jsonl
ROLLOUT_NAME = re.compile(r"^rollout-(\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d)-(.+)$")


def _parse(stamp: bytes) -> datetime:
    return datetime.fromisoformat(stamp.decode().replace("Z", "+00:00"))


def _format(moment: datetime, like: bytes) -> bytes:
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if b"." in like:
        digits = len(like) - like.index(b".") - 2
        text += "." + f"{moment.microsecond:06d}"[:digits]
    return (text + "Z").encode()


def latest_activity(home: Path) -> datetime:
    """The latest time written anywhere in the history under `home`."""
    latest: datetime | None = None
    for path in sorted(home.rglob("*.jsonl")):
        for stamp in ISO_TIME.findall(path.read_bytes()):
            moment = _parse(stamp)
            if latest is None or moment > latest:
                latest = moment
    if latest is None:
        raise ValueError(f"no timestamps under {home}")
    return latest


def shift_for(home: Path, now: datetime | None = None) -> timedelta:
    """The shift (whole seconds) that puts the latest activity LATEST_BEFORE_NOW ago."""
    now = now or datetime.now(UTC)
    delta = now - LATEST_BEFORE_NOW - latest_activity(home)
    return timedelta(seconds=int(delta.total_seconds()))


def shift_bytes(data: bytes, shift: timedelta) -> bytes:
    """Every ISO time and every Codex `resets_at` (epoch seconds) moved by `shift`."""
    data = ISO_TIME.sub(lambda m: _format(_parse(m.group(0)) + shift, m.group(0)), data)
    seconds = int(shift.total_seconds())
    return RESETS_AT.sub(lambda m: m.group(1) + str(int(m.group(2)) + seconds).encode(), data)


def _shifted_relative(relative: Path, shift: timedelta) -> Path:
    """Codex's dated folders and rollout names follow the shifted session start."""
    match = ROLLOUT_NAME.match(relative.name)
    if match is None or "sessions" not in relative.parts:
        return relative
    started = datetime.strptime(match.group(1), "%Y-%m-%dT%H-%M-%S").replace(tzinfo=UTC)
    moved = started + shift
    name = f"rollout-{moved.strftime('%Y-%m-%dT%H-%M-%S')}-{match.group(2)}"
    index = relative.parts.index("sessions")
    return Path(*relative.parts[: index + 1], moved.strftime("%Y/%m/%d"), name)


def prepare_demo_home(target: Path, *, now: datetime | None = None) -> Path:
    """Copy the bundled demo history into `target` (a throwaway folder), every time moved
    so the latest activity is two minutes before `now`. Returns the copy's home folder,
    holding `.claude/` and `.codex/` like a real home."""
    source = demo_history_dir()
    shift = shift_for(source, now)
    home = target / "home"
    for path in sorted(source.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(source)
        if path.suffix == ".jsonl":
            relative = _shifted_relative(relative, shift)
        destination = home / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".jsonl":
            destination.write_bytes(shift_bytes(path.read_bytes(), shift))
            # The file looks last written at its last line, as an agent leaves it.
            stamps = ISO_TIME.findall(destination.read_bytes())
            if stamps:
                last = max(_parse(stamp) for stamp in stamps).timestamp()
                os.utime(destination, (min(last, time.time()), min(last, time.time())))
        else:
            shutil.copyfile(path, destination)
    return home
