"""What the benchmark reads of the machine: open-file limit, /proc CPU and memory figures."""

from __future__ import annotations

import argparse
import os
import resource


def raise_fd_limit() -> int:
    """Raise this process's open-file limit to the hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else 1 << 20
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def cpu_times(pid: int | None) -> tuple[float, float]:
    """(user, system) CPU seconds of a process; zeros when it cannot be read."""
    if not pid:
        return 0.0, 0.0
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) / tick, int(fields[12]) / tick
    except (OSError, IndexError, ValueError):
        return 0.0, 0.0


def machine_busy_s() -> float:
    """CPU seconds all cores spent busy since boot (user, nice, system, irq, softirq, steal)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    """Resident set size of a process in KiB (0 when it cannot be read)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def add_disturbance_arguments(parser: argparse.ArgumentParser, quiet_wait_s: float, unit: str) -> None:
    """The options every benchmark shares for a machine that other work also uses: wait for
    quiet, and run a `unit` (a session, a size) again when something else took the cores."""
    parser.add_argument("--quiet-wait-s", type=float, default=quiet_wait_s,
                        help=f"before each {unit}, wait up to this long for other work on the cores to stop")
    parser.add_argument("--max-other-cpu", type=float, default=20.0,
                        help=f"run a {unit} again when anything else took more than this %% of a core")
    parser.add_argument("--retries", type=int, default=2, help="at most this many times again")


def listen_drops() -> dict[str, int]:
    """The machine's TCP listen-queue overflows and drops so far (/proc/net/netstat): a
    connection the server's accept queue had no room for waits for its SYN to be sent again."""
    try:
        lines = open("/proc/net/netstat").read().splitlines()
    except OSError:
        return {}
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], (int(v) for v in values.split()[1:])))
            return {k: table.get(k, 0) for k in ("ListenOverflows", "ListenDrops")}
    return {}
