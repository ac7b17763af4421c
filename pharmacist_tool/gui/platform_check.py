"""Before Qt starts: can this machine load Qt's platform plugin? If not, say which packages.

Without one of the shared libraries that Qt's platform plugin needs (``libxcb-cursor0`` is the
usual one on a fresh Debian or Ubuntu desktop), Qt aborts the process with a message in its own
log only (exit 134, nothing on the terminal). This module asks the system loader first: it loads
the plugin the way Qt will; when that fails it reads the plugin's and the bundled Qt libraries'
needed libraries (ELF ``DT_NEEDED``), tries each one with the loader and names every one missing
with the Debian package that has it. Linux only (elsewhere Qt ships what it needs). Qt-free: no
PySide6 module is imported here, only the package's folder is located.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

# The Debian package of each library that Qt's platform plugins and Qt's own libraries load from
# the system (names as in Debian 12 and Ubuntu 22.04 and later).
DEBIAN_PACKAGE = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
}


@dataclass
class PlatformProblem:
    platform: str
    missing: list[str] = field(default_factory=list)
    """Sonames the loader cannot load."""
    detail: str = ""
    """The loader's own words (or why the plugin was not found)."""

    def packages(self) -> list[str]:
        return sorted({DEBIAN_PACKAGE[m] for m in self.missing if m in DEBIAN_PACKAGE})

    def message(self) -> str:
        lines = [f"The window cannot start: Qt's {self.platform!r} platform cannot be loaded."]
        if self.missing:
            lines.append("This machine lacks: " + ", ".join(self.missing) + ".")
        packages = self.packages()
        if packages:
            lines.append("Install (Debian, Ubuntu): sudo apt-get install " + " ".join(packages))
        unknown = [m for m in self.missing if m not in DEBIAN_PACKAGE]
        if unknown:
            lines.append(
                "Find the package that has "
                + ", ".join(unknown)
                + " with: apt-file search "
                + unknown[0]
            )
        if self.detail:
            lines.append(f"(The system loader said: {self.detail})")
        return "\n".join(lines)


@dataclass
class DisplayProblem(PlatformProblem):
    """The plugin loads, but the X display it would draw on does not answer."""

    display: str = ""

    def message(self) -> str:
        if not self.display:
            return (
                "The window cannot start: no X display is set (DISPLAY is empty). Start it "
                "from the desktop, or set DISPLAY."
            )
        return "\n".join(
            [
                f"The window cannot start: the X display {self.display!r} (DISPLAY) does not "
                "answer.",
                "Is the desktop session still running, and may this user draw on it? Over SSH, "
                "connect with `ssh -X`; check with `xdpyinfo` or `xset q`.",
                f"(The X client library said: {self.detail})",
            ]
        )


XCB_ERRORS = {
    1: "the connection failed (socket, pipe or stream error)",
    2: "an extension is not supported",
    3: "out of memory",
    4: "a request was too long",
    5: "the display name could not be parsed",
    6: "the display has no such screen",
    7: "the descriptor passing failed",
}


def display_problem() -> DisplayProblem | None:
    """None when the X display answers; else why it does not. Qt's xcb plugin, without a
    display, aborts the process (exit 134) with its message only in its own log."""
    display = os.environ.get("DISPLAY", "").strip()
    if not display:
        return DisplayProblem("xcb", detail="DISPLAY is not set")
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError as missing:  # the plugin check names the package
        return DisplayProblem("xcb", missing=["libxcb.so.1"], detail=str(missing), display=display)
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
    xcb.xcb_connection_has_error.restype = ctypes.c_int
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)
    try:
        error = xcb.xcb_connection_has_error(connection)
    finally:
        xcb.xcb_disconnect(connection)
    if error == 0:
        return None
    return DisplayProblem("xcb", detail=XCB_ERRORS.get(error, f"error {error}"), display=display)


def qt_folder() -> Path | None:
    """PySide6's ``Qt`` folder (plugins and libraries), found without importing PySide6."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "Qt"


def requested_platforms() -> list[str]:
    """The platforms Qt will try, in order (``QT_QPA_PLATFORM``, else what Qt picks itself)."""
    wanted = os.environ.get("QT_QPA_PLATFORM", "").strip()
    if wanted:
        names = [part.split(":", 1)[0].strip() for part in wanted.split(";")]
        return [n for n in names if n]
    if (
        os.environ.get("XDG_SESSION_TYPE") == "wayland"
        and os.environ.get("WAYLAND_DISPLAY")
        and not os.environ.get("DISPLAY")
    ):
        return ["wayland", "xcb"]
    return ["xcb"]


def plugin_dirs(qt: Path) -> list[Path]:
    dirs: list[Path] = []
    explicit = os.environ.get("QT_QPA_PLATFORM_PLUGIN_PATH")
    if explicit:
        dirs.append(Path(explicit))
    for entry in os.environ.get("QT_PLUGIN_PATH", "").split(os.pathsep):
        if entry:
            dirs.append(Path(entry) / "platforms")
    dirs.append(qt / "plugins" / "platforms")
    return dirs


def needed_libraries(path: Path) -> list[str]:
    """The ``DT_NEEDED`` entries of a 64- or 32-bit ELF file (empty if it is not one)."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF":
        return []
    bits64 = data[4] == 2
    endian = "<" if data[5] == 1 else ">"
    if bits64:
        phoff, phentsize, phnum = (
            struct.unpack_from(endian + "Q", data, 0x20)[0],
            *struct.unpack_from(endian + "HH", data, 0x36),
        )
        ph_fmt, dyn_fmt = endian + "IIQQQQQQ", endian + "qQ"
    else:
        phoff, phentsize, phnum = (
            struct.unpack_from(endian + "I", data, 0x1C)[0],
            *struct.unpack_from(endian + "HH", data, 0x2A),
        )
        ph_fmt, dyn_fmt = endian + "IIIIIIII", endian + "iI"
    loads: list[tuple[int, int, int]] = []  # (virtual address, file offset, size)
    dynamic: tuple[int, int] | None = None
    for i in range(phnum):
        fields = struct.unpack_from(ph_fmt, data, phoff + i * phentsize)
        if bits64:
            p_type, _flags, p_offset, p_vaddr, _pa, p_filesz = fields[:6]
        else:
            p_type, p_offset, p_vaddr, _pa, p_filesz = fields[:5]
        if p_type == 1:
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == 2:
            dynamic = (p_offset, p_filesz)
    if dynamic is None:
        return []
    size = struct.calcsize(dyn_fmt)
    strtab = 0
    needed: list[int] = []
    for offset in range(dynamic[0], dynamic[0] + dynamic[1], size):
        tag, value = struct.unpack_from(dyn_fmt, data, offset)
        if tag == 0:
            break
        if tag == 1:
            needed.append(value)
        elif tag == 5:
            strtab = value
    table = next((off + strtab - va for va, off, sz in loads if va <= strtab < va + sz), None)
    if table is None:
        return []
    names = []
    for start in needed:
        end = data.index(b"\0", table + start)
        names.append(data[table + start : end].decode("utf-8", "replace"))
    return names


def loadable(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def check_platform(platform: str, qt: Path) -> PlatformProblem | None:
    """None when the platform plugin loads; else what is missing."""
    plugin = next(
        (d / f"libq{platform}.so" for d in plugin_dirs(qt) if (d / f"libq{platform}.so").exists()),
        None,
    )
    if plugin is None:
        where = ", ".join(map(str, plugin_dirs(qt)))
        return PlatformProblem(platform, detail=f"no plugin libq{platform}.so in {where}")
    try:
        ctypes.CDLL(str(plugin))
    except OSError as error:
        detail = str(error)
    else:
        return None
    bundled = qt / "lib"
    missing: list[str] = []
    seen: set[str] = set()
    todo = [plugin]
    while todo:
        for name in needed_libraries(todo.pop()):
            if name in seen:
                continue
            seen.add(name)
            if (bundled / name).exists():
                todo.append(bundled / name)
            elif not loadable(name):
                missing.append(name)
    return PlatformProblem(platform, missing=missing, detail=detail)


def platform_problem() -> PlatformProblem | None:
    """None when Qt can start here (or this is not Linux); else the first platform's problem:
    a library its plugin lacks, or (X11) a display that does not answer."""
    if not sys.platform.startswith("linux"):
        return None
    qt = qt_folder()
    if qt is None:
        return PlatformProblem("any", detail="PySide6 is not installed")
    problems: list[PlatformProblem] = []
    for platform in requested_platforms():
        problem = check_platform(platform, qt)
        if problem is None and platform == "xcb":
            problem = display_problem()
        if problem is None:
            return None
        problems.append(problem)
    return problems[0] if problems else None
