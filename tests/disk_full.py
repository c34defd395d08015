"""A full disk, as a process sees it: writes to files under one directory stop with ENOSPC.

Private storage writes with os.write (core/storage.py), so replacing os.write with `DiskFull` makes
its writes fail as on a full disk: each file takes its first `room` bytes (a short write), then the
next write fails with ENOSPC. Writes to any other file (logs, pipes, the database) go through. Used by
tests/test_private_storage.py in-process and by tests/reliability/worker_app.py in a real worker.
"""

import errno
import os
from pathlib import Path

real_write = os.write


class DiskFull:
    def __init__(self, root: Path | str, *, room: int = 16, while_exists: Path | str | None = None) -> None:
        self.root = str(Path(root).resolve())
        self.room = room
        self.while_exists = Path(while_exists) if while_exists else None  # the disk is full while this file exists

    def __call__(self, descriptor: int, data) -> int:
        if not self._applies_to(descriptor):
            return real_write(descriptor, data)
        left = self.room - os.lseek(descriptor, 0, os.SEEK_CUR)
        if left <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(descriptor, bytes(data[:left]))

    def _applies_to(self, descriptor: int) -> bool:
        if self.while_exists is not None and not self.while_exists.exists():
            return False
        try:
            target = os.readlink(f"/proc/self/fd/{descriptor}")
        except OSError:
            return False
        return target.startswith(self.root + os.sep)
