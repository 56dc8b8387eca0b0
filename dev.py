#!/usr/bin/env python3
"""Two commands from nothing to a running store, using only Python 3.11+:

    python3 dev.py demo    # install into .venv, then start the demo store on http://127.0.0.1:8000
    python3 dev.py test    # install into .venv (with test tools), then run the whole test suite

Anything after the command is passed on (`python3 dev.py test -k checkout`, `python3 dev.py demo --port 9000`).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def ensure_installed(extra: str) -> None:
    """Create .venv and install the project (editable) with ``extra``; skip when nothing changed."""
    if sys.version_info < (3, 11):
        sys.exit(f"Fanbase needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extra.encode()).hexdigest()
    stamp = VENV / f".installed-{extra or 'base'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"Installing Fanbase{f' [{extra}]' if extra else ''} into .venv ...", flush=True)
    target = f"{ROOT}[{extra}]" if extra else str(ROOT)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", target],
                   check=True)
    stamp.write_text(digest)


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("demo", "test"):
        print(__doc__)
        return 2
    command, rest = sys.argv[1], sys.argv[2:]
    if command == "demo":
        ensure_installed("")
        return subprocess.call([str(BIN / "fanbase"), "serve", "--demo", *rest], cwd=ROOT)
    ensure_installed("test")
    # tests that need a server we do not have are deselected, not skipped; .ci/run provides both
    left_out = [marker for marker, variable in (("postgres", "FANBASE_TEST_DATABASE_URL"),
                                                ("redis", "FANBASE_TEST_REDIS_URL")) if not os.environ.get(variable)]
    if left_out:
        print(f"left out (no server configured): tests marked {', '.join(left_out)}", flush=True)
        rest = ["-m", " and ".join(f"not {marker}" for marker in left_out), *rest]
    return subprocess.call([str(PYTHON), "-m", "pytest", "-n", "2", *rest], cwd=ROOT)


if __name__ == "__main__":
    raise SystemExit(main())
