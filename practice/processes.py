"""Small Linux process helpers the launcher and the Rasa workers share.

* `die_with_parent`: a child asks the kernel for SIGKILL when its parent dies
  (`prctl(PR_SET_PDEATHSIG)`), so no server outlives a launcher that was killed;
* `children_of`: the processes whose parent is a given pid (the Rasa workers);
* `describe_exit`: "exited with code 1" or "killed by SIGKILL" from a return code;
* `port_owner`: which process listens on a TCP port, for a clear message when it is taken.
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import socket
from pathlib import Path
from typing import Callable, List, Optional

PR_SET_PDEATHSIG = 1
# The C library this Python is linked with, looked up here in the parent: the forked child
# only calls the function. (Not ctypes.util.find_library: it runs ldconfig in a subprocess.)
_LIBC = ctypes.CDLL(None, use_errno=True)


def die_with_parent(parent_pid: int, sig: int = signal.SIGKILL) -> None:
    """Ask for `sig` when the parent (thread) dies; exit at once if it already has."""
    _LIBC.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    # The parent may have died between fork and prctl: then nobody would signal us.
    if os.getppid() != parent_pid:
        os._exit(1)


def pdeathsig_preexec() -> Callable[[], None]:
    """A `preexec_fn` for subprocess.Popen: the child dies with this process."""
    parent = os.getpid()
    return lambda: die_with_parent(parent)


def children_of(pid: int) -> List[int]:
    """Pids of the living processes whose parent is `pid` (read from /proc)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[1] == str(pid) and fields[0] != "Z":
            found.append(int(entry.name))
    return sorted(found)


def describe_exit(returncode: Optional[int]) -> str:
    """A return code as words: "exited with code 1", "killed by SIGKILL"."""
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"


def command_line(pid: int) -> str:
    """A process's command line, or "" if it is gone or hidden."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return " ".join(part for part in raw.decode(errors="replace").split("\0") if part)


def is_alive(pid: int) -> bool:
    """True while a process with this pid exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def port_is_free(host: str, port: int) -> bool:
    """True when a server could listen on host:port now (as our servers do, SO_REUSEADDR)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def _listening_inodes(port: int) -> set:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def port_owner(port: int) -> Optional[int]:
    """The pid of a process listening on TCP `port`, if this user can see it."""
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not wanted:
        return None
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            descriptors = os.listdir(f"/proc/{entry.name}/fd")
        except OSError:
            continue
        for fd in descriptors:
            try:
                if os.readlink(f"/proc/{entry.name}/fd/{fd}") in wanted:
                    return int(entry.name)
            except OSError:
                continue
    return None
