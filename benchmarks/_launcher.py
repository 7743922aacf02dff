"""Start measurement subprocesses from a tiny process, so their peak memory is their own.

On Linux, ``getrusage(RUSAGE_SELF).ru_maxrss`` of a child keeps the resident size of the
process it was forked from (the kernel carries the old high-water mark across ``exec``). A
benchmark parent that holds a national register would thus inflate every child's peak. The
launcher is a bare Python process started before anything large is loaded; it runs the
commands it is sent, so the children are forked from a ~10 MB process.
"""

from __future__ import annotations

import json
import subprocess
import sys

_CODE = r"""
import json, subprocess, sys
for line in sys.stdin:
    cmd = json.loads(line)
    out = subprocess.run(cmd, capture_output=True, text=True)
    sys.stdout.write(json.dumps([out.returncode, out.stdout, out.stderr[-20000:]]) + "\n")
    sys.stdout.flush()
"""

_proc: subprocess.Popen | None = None


def start() -> None:
    """Start the launcher (call first thing, before loading data)."""
    global _proc
    if _proc is None:
        _proc = subprocess.Popen(
            [sys.executable, "-S", "-c", _CODE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    """Run ``cmd`` (through the launcher when started); raise on a non-zero exit code."""
    if _proc is None:
        return subprocess.run(cmd, check=True, capture_output=True, text=True)
    _proc.stdin.write(json.dumps([str(c) for c in cmd]) + "\n")
    _proc.stdin.flush()
    code, stdout, stderr = json.loads(_proc.stdout.readline())
    if code:
        raise subprocess.CalledProcessError(code, cmd, stdout, stderr)
    return subprocess.CompletedProcess(cmd, code, stdout, stderr)
