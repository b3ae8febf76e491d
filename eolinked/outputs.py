"""Output files: what every writer of the toolkit shares."""
from __future__ import annotations

import os


def _umask() -> int:
    """The process umask, read without changing it where Linux shows it (else set and restored)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def normal_mode(path) -> None:
    """Give a temporary file (mkstemp makes them 0600) the mode a new file gets: 0666 & ~umask."""
    os.chmod(path, 0o666 & ~_umask())
