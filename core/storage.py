"""Private storage: a file appears under its name whole or not at all, and leftovers can be found.

Writing. Django's FileSystemStorage creates the file under its final name and then writes into it, so a
full disk (ENOSPC) or a killed worker leaves an empty or partial PDF under a real name (issue #23: 15
such files after a full disk). `PrivateStorage` writes to a temporary name in the same directory,
flushes it to disk, and only then links it to its final name (one atomic step, never over an existing
file, as Django's own O_EXCL); a failed write removes the temporary. STORAGES["default"] uses it, so
every FileField in private storage (addendum PDFs, stamped copies) and `/readyz`'s probe go through it.

Leftovers. A process killed between writing and linking leaves a temporary (".partial-…"); one killed
between saving a file and committing the row that names it leaves a file nothing references.
`unreferenced_files()` finds both, once they are older than LEFTOVER_AFTER (a save in progress or a
row not yet committed is not a leftover); `manage.py private_files` lists them and removes them with
`--remove`, and `check_health` reports them.
"""

from __future__ import annotations

import datetime
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import models
from django.utils._os import safe_makedirs

TEMPORARY_PREFIX = ".partial-"
# Longer than any save or transaction takes (a task's time limit is 120 s): younger files may still be in use.
LEFTOVER_AFTER = datetime.timedelta(hours=1)


class PrivateStorage(FileSystemStorage):
    """FileSystemStorage whose files appear under their names only when completely written."""

    def _save(self, name: str, content) -> str:
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        self._make_directory(directory)
        temporary = os.path.join(directory, f"{TEMPORARY_PREFIX}{uuid.uuid4().hex}")
        try:
            _write_durably(temporary, content)
            while True:
                try:
                    self._put_in_place(temporary, full_path)
                    break
                except FileExistsError:  # taken meanwhile: Django's way, another name
                    name = self.get_available_name(name)
                    full_path = self.path(name)
        finally:
            with suppress(FileNotFoundError):  # gone after os.replace
                os.unlink(temporary)  # after a link, the second name; after a failure, the partial file
        _sync_directory(directory)
        if self.file_permissions_mode is not None:
            os.chmod(full_path, self.file_permissions_mode)
        self._ensure_location_group_id(full_path)
        return os.path.relpath(full_path, self.location).replace("\\", "/")

    def _make_directory(self, directory: str) -> None:
        try:
            if self.directory_permissions_mode is not None:
                safe_makedirs(directory, self.directory_permissions_mode, exist_ok=True)
            else:
                os.makedirs(directory, exist_ok=True)
        except FileExistsError:
            raise FileExistsError(f"{directory} exists and is not a directory.") from None

    def _put_in_place(self, temporary: str, full_path: str) -> None:
        if self._allow_overwrite:
            os.replace(temporary, full_path)
        else:
            os.link(temporary, full_path)  # fails with FileExistsError rather than replace a file


def _write_durably(path: str, content) -> None:
    """Write every chunk (os.write, so a short write or ENOSPC is seen as the disk reports it), then fsync."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        for chunk in content.chunks():
            view = memoryview(chunk.encode() if isinstance(chunk, str) else chunk)
            while view:
                view = view[os.write(descriptor, view) :]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _sync_directory(directory: str) -> None:
    """The new name itself survives a power cut only once its directory is flushed too."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- Leftovers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leftover:
    name: str  # relative to the storage root, with forward slashes
    why: str  # "temporary" (an unfinished write) or "unreferenced"


def _file_fields() -> Iterator[tuple[type[models.Model], models.FileField]]:
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField) and field.storage is default_storage:
                yield model, field


def _referenced_names() -> set[str]:
    names: set[str] = set()
    for model, field in _file_fields():
        names.update(model._default_manager.exclude(**{field.attname: ""}).values_list(field.attname, flat=True))
    return names


def _model_directories() -> set[str]:
    """Where the models' files go: the first directory of the name each FileField gives a new file.

    Only these are searched (and the root's own files, such as a probe left by /readyz): other
    directories in the storage root belong to something else (audit checkpoints, trusted roots).
    """
    directories = set()
    for model, field in _file_fields():
        parts = Path(field.generate_filename(model(), "file")).parts
        if len(parts) > 1:
            directories.add(parts[0])
    return directories


def unreferenced_files(*, now: float | None = None) -> list[Leftover]:
    """Files in private storage that no row names, and unfinished writes, older than LEFTOVER_AFTER."""
    location = getattr(default_storage, "location", None)  # a storage of files on this machine
    if location is None or not Path(location).is_dir():
        return []
    root = Path(location)
    cutoff = (now or time.time()) - LEFTOVER_AFTER.total_seconds()  # file times are the real clock's
    candidates = [path for path in root.iterdir() if path.is_file()]
    for directory in sorted(_model_directories()):
        if (root / directory).is_dir():
            candidates.extend(path for path in (root / directory).rglob("*") if path.is_file())
    referenced = _referenced_names()
    leftovers = []
    for path in sorted(candidates):
        name = path.relative_to(root).as_posix()
        try:
            old = path.stat().st_mtime < cutoff
        except FileNotFoundError:
            continue  # removed meanwhile: a save finishing, or a probe cleaning up
        if path.name.startswith(TEMPORARY_PREFIX):
            if old:
                leftovers.append(Leftover(name, "temporary"))
        elif name not in referenced and old:
            leftovers.append(Leftover(name, "unreferenced"))
    return leftovers


def unreferenced_file_problems() -> list[str]:
    """A line for each leftover, for `manage.py check_health`."""
    return [
        f"private storage: {leftover.name}: "
        + ("an unfinished write" if leftover.why == "temporary" else "referenced by nothing")
        + " (manage.py private_files --remove)"
        for leftover in unreferenced_files()
    ]
