"""Child processes for the benchmark: start in their own group, stop by group, measure memory (PSS)."""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Sequence


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children() -> Dict[int, List[int]]:
    tree: Dict[int, List[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the ppid follows the last ')'.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def process_tree(root: int) -> List[int]:
    """`root` and every process below it."""
    tree = _children()
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(tree.get(pid, []))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time one process used so far, 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime and stime are fields 14 and 15 of stat; fields[0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_of(pids: Mapping[str, int]) -> Dict[str, float]:
    """Name to CPU seconds of each root pid's tree, plus `total`."""
    used = {name: sum(cpu_seconds(p) for p in process_tree(pid)) for name, pid in pids.items()}
    used["total"] = sum(used.values())
    return used


def pss_mb(pid: int) -> float:
    """Proportional memory of one process in MB (Pss), 0 if it is gone.

    PSS splits each page shared by several processes between them, so the Rasa workers,
    forked after the model loaded (practice/rasa_runtime/workers.py), are not counted once per worker.
    For a single process it is its RSS less its share of shared libraries.
    """
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def tree_pss_mb(root: int) -> float:
    """Proportional memory (PSS) of `root` and its descendants in MB."""
    return sum(pss_mb(pid) for pid in process_tree(root))


class Group:
    """Named child processes, each in its own session so it stops with all it started."""

    def __init__(self, log_dir: Path) -> None:
        """Logs go to `log_dir/<name>.log`."""
        self.log_dir = log_dir
        self.procs: Dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> None:
        """Start `argv` as `name`."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - lives with the process
        self.procs[name] = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def pids(self) -> Dict[str, int]:
        """Name to root pid of every running process."""
        return {name: p.pid for name, p in self.procs.items() if p.poll() is None}

    def memory(self) -> Dict[str, float]:
        """Name to tree PSS in MB, plus `total`."""
        return pss_of(self.pids())

    def cpu(self) -> Dict[str, float]:
        """Name to tree CPU seconds, plus `total`."""
        return cpu_of(self.pids())

    def check_alive(self) -> None:
        """Raise if a process exited."""
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with code {proc.returncode}; see {self.log_dir / (name + '.log')}")

    def stop(self) -> None:
        """SIGTERM every group, SIGKILL what is left after 10 s."""
        stop_pids(p.pid for p in self.procs.values() if p.poll() is None)
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        self.procs.clear()


def stop_pids(pids: Iterable[int], timeout: float = 10.0) -> None:
    """Stop the process groups led by `pids`: SIGTERM, then SIGKILL."""
    pids = list(pids)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for pid in pids:
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)


def pss_of(pids: Mapping[str, int]) -> Dict[str, float]:
    """Name to tree PSS in MB for each root pid, plus `total`."""
    sizes = {name: tree_pss_mb(pid) for name, pid in pids.items()}
    sizes["total"] = sum(sizes.values())
    return sizes


def machine() -> Dict[str, str]:
    """What the numbers were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = 0.0
    try:
        first = Path("/proc/meminfo").read_text().splitlines()[0]
        mem_gb = int(first.split()[1]) / 1024 / 1024
    except (OSError, IndexError, ValueError):
        pass
    load = os.getloadavg()
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": f"{mem_gb:.1f} GB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load_at_start": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
    }


def wait_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 300) -> None:
    """Block until something listens on loopback `port`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before port {port} opened")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on port {port} after {timeout:.0f} s")
