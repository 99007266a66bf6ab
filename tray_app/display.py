"""Whether the X display the tray would open answers, asked before Qt starts.

Qt's xcb platform aborts the whole process (SIGABRT, advising to reinstall the application)
when DISPLAY names a display no X server answers on, as a DISPLAY left over from an ended
session or an SSH login without forwarding does. libxcb, which Qt's xcb platform itself
connects through, is asked the same question first, so the user gets a sentence instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys


def unreachable_x_display(platform: str | None) -> str | None:
    """The DISPLAY value when Qt would connect to it through xcb and no X server accepts
    the connection there; None when it answers or when Qt would not go through xcb.

    `platform` is the Qt platform chosen on purpose (QT_QPA_PLATFORM or `-platform`), if any.
    """
    if not (sys.platform.startswith("linux") or "bsd" in sys.platform):
        return None
    display = os.environ.get("DISPLAY")
    if not display:
        return None
    if platform is not None and not platform.startswith("xcb"):
        return None
    if platform is None and os.environ.get("WAYLAND_DISPLAY"):
        # Qt may pick Wayland and only fall back to xcb: not this module's question.
        return None
    xcb = _libxcb()
    if xcb is None:
        # No libxcb: Qt's xcb platform cannot load either and says so itself.
        return None
    connection = xcb.xcb_connect(display.encode(), None)
    try:
        failed = xcb.xcb_connection_has_error(connection) != 0
    finally:
        # Safe on a connection in error: libxcb hands out a static object it never frees.
        xcb.xcb_disconnect(connection)
    return display if failed else None


def _libxcb() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("xcb")
    if name is None:
        return None
    try:
        xcb = ctypes.CDLL(name)
    except OSError:
        return None
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.restype = ctypes.c_int
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.restype = None
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    return xcb
