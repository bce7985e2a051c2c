"""Child processes of the sandbox: started in their own process group, never orphaned.

Each child gets ``PR_SET_PDEATHSIG``: if irctl dies without cleaning up (SIGKILL, a crash),
the kernel sends the child SIGTERM. A clean stop sends SIGTERM to the child's whole
process group, waits, then SIGKILLs what is left.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PR_SET_PDEATHSIG = 1

# What a fresh Debian machine needs for each external binary (the Makefile installs them).
INSTALL_HINTS = {
    "prometheus": "apt-get install prometheus",
    "promtool": "apt-get install prometheus",
    "prometheus-alertmanager": "apt-get install prometheus-alertmanager",
    "amtool": "apt-get install prometheus-alertmanager",
    "moto_server": "pip install 'moto[server]' (it is in the project's pinned dependencies)",
}


class MissingBinary(RuntimeError):
    """A program the sandbox runs is not installed; the message says how to get it."""


class ProcessFailed(RuntimeError):
    """A child exited or never became ready; the message carries the end of its log."""


def find_binary(name: str) -> str:
    """The path of `name`: next to this Python first (the venv's scripts), then on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found is None:
        hint = INSTALL_HINTS.get(name, f"install {name}")
        raise MissingBinary(
            f"`{name}` is not installed or not on PATH; the sandbox needs it. "
            f"Install it with: {hint} (or run `make demo`, which installs what is missing)."
        )
    return found


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes]
    log_path: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class Supervisor:
    """Starts children and stops every one of them, in reverse order, exactly once."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[Child] = []

    def spawn(
        self, name: str, argv: Sequence[str], *, env: Mapping[str, str] | None = None
    ) -> Child:
        log_path = self.log_dir / f"{name}.log"
        log = log_path.open("wb")
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        try:
            process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=full_env,
                start_new_session=True,  # Ctrl-C reaches irctl only; it stops children in order
                preexec_fn=_die_with_parent,
                close_fds=True,
            )
        finally:
            log.close()
        child = Child(name, list(argv), process, log_path)
        self.children.append(child)
        return child

    def check_alive(self) -> None:
        for child in self.children:
            if not child.alive():
                raise ProcessFailed(
                    f"{child.name} exited with code {child.process.returncode}; "
                    f"last lines of {child.log_path}:\n{child.log_tail()}"
                )

    def stop_all(self, timeout: float = 10.0) -> None:
        children, self.children = self.children, []
        for child in reversed(children):
            _signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in reversed(children):
            remaining = max(0.1, deadline - time.monotonic())
            try:
                child.process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                _signal_group(child.process, signal.SIGKILL)
                child.process.wait(timeout=5)
            # Helpers a child started in its group (e.g. worker processes) go too.
            _signal_group(child.process, signal.SIGKILL)


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    # Every child leads its own session (start_new_session), so its group id is its pid:
    # this reaches helpers it started too, and never irctl's own group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
