"""Unix-socket path helpers shared by the control server and its clients: short
addresses for long paths, the peer's credentials, and replacing a stale socket file.

``sockaddr_un`` holds at most ~107 bytes, and data directories (pytest's ``tmp_path``,
deep home directories) easily exceed that. On Linux the directory can be reached through
``/proc/self/fd/<fd>`` of an ``O_PATH`` descriptor, which keeps the address short while
the socket file still lives where it should.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rugsd.daemon.lazylog import lazy_logger

log = lazy_logger(__name__)

# sun_path is 108 bytes on Linux (104 on BSDs/macOS), including the NUL
_MAX_SUN_PATH = 100


class SocketPathError(OSError):
    """The socket path cannot be used (too long on this OS, or not a socket)."""


@contextmanager
def short_address(path: Path | str) -> Iterator[str]:
    """An address for ``bind``/``connect`` that reaches ``path``, short enough for AF_UNIX."""
    path = Path(path)
    if len(os.fsencode(path)) <= _MAX_SUN_PATH:
        yield str(path)
        return
    o_path = getattr(os, "O_PATH", None)
    if o_path is None or not Path("/proc/self/fd").is_dir():
        raise SocketPathError(
            f"socket path too long for this OS ({len(os.fsencode(path))} bytes): {path}; "
            "use a shorter --data-dir"
        )
    fd = os.open(path.parent, o_path | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


def peer_credentials(sock: socket.socket) -> tuple[int | None, int | None]:
    """``(pid, uid)`` of the process at the other end, ``(None, None)`` where unsupported."""
    opt = getattr(socket, "SO_PEERCRED", None)
    if opt is None:
        return None, None
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, opt, struct.calcsize("3i"))
    except OSError:
        return None, None
    pid, uid, _gid = struct.unpack("3i", raw)
    return pid, uid


class ControlSocketInUse(SocketPathError):
    """Another live process already serves the control socket."""


def clear_stale(path: Path) -> None:
    """Remove a left-over socket file; refuse if it is live or not a socket."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise SocketPathError(f"{path} exists and is not a socket; refusing to replace it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(0.5)
    try:
        with short_address(path) as addr:
            probe.connect(addr)
    except (ConnectionRefusedError, FileNotFoundError):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        log.info("replaced stale control socket", path=str(path))
        return
    except OSError as err:
        raise ControlSocketInUse(f"control socket {path} is busy: {err}") from None
    finally:
        probe.close()
    raise ControlSocketInUse(f"another process is serving the control socket {path}")
