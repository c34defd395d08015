"""Private storage: a file is under its name whole or not at all, and leftovers are listed and removed.

The full disk is tests/disk_full.py (os.write failing with ENOSPC after a file's first bytes); the
same fault in a real worker is in tests/reliability/test_worker_faults.py.
"""

import os
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from core.models import OutboxMessage
from core.storage import LEFTOVER_AFTER, TEMPORARY_PREFIX, PrivateStorage, unreferenced_files
from ordering import services
from ordering.models import Addendum

from .disk_full import DiskFull

OLD = LEFTOVER_AFTER.total_seconds()


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.fixture
def storage(tmp_path) -> PrivateStorage:
    return PrivateStorage(location=tmp_path / "store")


def test_a_saved_file_is_whole_under_its_name_and_no_temporary_is_left(storage):
    name = storage.save("addenda/7/a.pdf", ContentFile(b"%PDF" + b"x" * 100_000))

    assert name == "addenda/7/a.pdf"
    assert Path(storage.path(name)).read_bytes() == b"%PDF" + b"x" * 100_000
    assert files_under(Path(storage.location)) == ["addenda/7/a.pdf"]


def test_a_name_taken_gets_another_name_and_the_first_file_is_kept(storage):
    first = storage.save("addenda/7/a.pdf", ContentFile(b"first"))
    second = storage.save("addenda/7/a.pdf", ContentFile(b"second"))

    assert first != second and second.startswith("addenda/7/a_")
    assert Path(storage.path(first)).read_bytes() == b"first"
    assert Path(storage.path(second)).read_bytes() == b"second"
    assert len(files_under(Path(storage.location))) == 2


def test_with_overwriting_allowed_the_file_is_replaced_whole(tmp_path):
    storage = PrivateStorage(location=tmp_path / "store", allow_overwrite=True)
    storage.save("a.pdf", ContentFile(b"first"))
    assert storage.save("a.pdf", ContentFile(b"second")) == "a.pdf"
    assert files_under(Path(storage.location)) == ["a.pdf"]
    assert Path(storage.path("a.pdf")).read_bytes() == b"second"


def test_a_disk_full_midway_leaves_neither_the_file_nor_its_temporary(storage, monkeypatch):
    storage.save("addenda/7/kept.pdf", ContentFile(b"kept"))
    fault = DiskFull(storage.location, room=10)
    monkeypatch.setattr(os, "write", fault)

    with pytest.raises(OSError, match="No space left on device"):
        storage.save("addenda/7/a.pdf", ContentFile(b"y" * 4096))

    assert files_under(Path(storage.location)) == ["addenda/7/kept.pdf"]
    monkeypatch.undo()  # space returns
    assert storage.save("addenda/7/a.pdf", ContentFile(b"y" * 4096)) == "addenda/7/a.pdf"
    assert Path(storage.path("addenda/7/a.pdf")).read_bytes() == b"y" * 4096


def test_the_full_disk_fails_the_write_after_exactly_its_room(storage, monkeypatch):
    monkeypatch.setattr(os, "write", DiskFull(storage.location, room=10))
    assert storage.save("fits.pdf", ContentFile(b"0123456789")) == "fits.pdf"  # exactly the room
    with pytest.raises(OSError):
        storage.save("too-big.pdf", ContentFile(b"0123456789a"))
    assert files_under(Path(storage.location)) == ["fits.pdf"]


def test_a_render_on_a_full_disk_changes_nothing_and_succeeds_once_space_returns(
    cast, order_in, monkeypatch, django_capture_on_commit_callbacks
):
    order = order_in("submitted")
    root = Path(default_storage.location)
    with monkeypatch.context() as full:
        full.setattr(os, "write", DiskFull(root, room=10))
        with django_capture_on_commit_callbacks(execute=True):
            services.order_issue_addendum(order=order, actor=cast.am_a)
        addendum = Addendum.objects.get(order=order)
        assert (addendum.render_status, addendum.pdf.name, addendum.pdf_sha256) == ("pending", "", "")
        assert not [f for f in files_under(root) if f.startswith("addenda/")]  # neither a PDF nor a temporary
        render = OutboxMessage.objects.get(handler="ordering.render_addendum", order_id=order.pk)
        assert (render.status, render.attempts) == ("pending", 1)
        assert render.last_error == "OSError: [Errno 28] No space left on device"

    addendum = services.addendum_render(addendum.pk)  # the outbox's next attempt, with space again

    assert addendum.render_status == "ready"
    assert [f for f in files_under(root) if f.startswith("addenda/")] == [addendum.pdf.name]
    assert not unreferenced_files(now=time.time() + OLD + 1)


# --- Leftovers: `manage.py private_files` and check_health ----------------------------------------


def aged(path: Path, seconds: float, content: bytes = b"x") -> Path:
    """A file last written `seconds` ago."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    moment = time.time() - seconds
    os.utime(path, (moment, moment))
    return path


@pytest.fixture
def leftovers(cast, order_in, django_capture_on_commit_callbacks):
    """A rendered addendum's referenced PDF, and beside it every kind of file, old and young."""
    order = order_in("submitted")
    with django_capture_on_commit_callbacks(execute=True):
        services.order_issue_addendum(order=order, actor=cast.am_a)
    addendum = Addendum.objects.get(order=order)
    root = Path(default_storage.location)
    os.utime(root / addendum.pdf.name, (time.time() - 10 * OLD,) * 2)  # referenced: never listed, however old
    directory = f"addenda/{order.pk}"
    aged(root / directory / "stray.pdf", OLD + 1)  # a render's file whose row never committed
    aged(root / directory / f"{TEMPORARY_PREFIX}abc", OLD + 1)  # a write cut off
    aged(root / directory / "young.pdf", OLD - 60)  # a render committing right now
    aged(root / directory / f"{TEMPORARY_PREFIX}def", OLD - 60)  # a write under way
    aged(root / ".readyz-0123", OLD + 1)  # a readiness probe killed before cleaning up
    aged(root / "audit-checkpoints" / "0001.json", 10 * OLD)  # another owner's directory
    aged(root / "demo-trust" / "rod.pem", 10 * OLD)
    return root, addendum, directory


def test_the_leftovers_listed_are_exactly_the_old_unreferenced_files_and_unfinished_writes(leftovers):
    root, addendum, directory = leftovers

    found = [(leftover.name, leftover.why) for leftover in unreferenced_files()]

    assert found == [
        (".readyz-0123", "unreferenced"),
        (f"{directory}/{TEMPORARY_PREFIX}abc", "temporary"),
        (f"{directory}/stray.pdf", "unreferenced"),
    ]


def test_a_file_counts_as_a_leftover_only_once_older_than_an_hour(db):
    root = Path(default_storage.location)
    path = aged(root / "addenda" / "1" / "stray.pdf", 0)
    written = path.stat().st_mtime

    assert unreferenced_files(now=written + OLD) == []  # exactly an hour: may still be committing
    assert [f.name for f in unreferenced_files(now=written + OLD + 0.001)] == ["addenda/1/stray.pdf"]


def test_the_command_lists_them_and_removes_them_only_when_asked(leftovers, capsys):
    root, addendum, directory = leftovers
    before = files_under(root)

    call_command("private_files")
    listed = capsys.readouterr().out
    assert f"{directory}/stray.pdf (unreferenced)" in listed and "3 files nothing needs" in listed
    assert files_under(root) == before

    call_command("private_files", "--remove")
    assert "3 files removed." in capsys.readouterr().out
    assert files_under(root) == sorted(
        [
            addendum.pdf.name,
            f"{directory}/young.pdf",
            f"{directory}/{TEMPORARY_PREFIX}def",
            "audit-checkpoints/0001.json",
            "demo-trust/rod.pem",
        ]
    )
    call_command("private_files")
    assert "No stray files in private storage." in capsys.readouterr().out


def test_check_health_names_each_leftover_until_they_are_removed(leftovers, capsys):
    root, addendum, directory = leftovers

    with pytest.raises(SystemExit) as exit_info:
        call_command("check_health")
    assert exit_info.value.code == 1
    problems = capsys.readouterr().err.splitlines()
    assert problems == [
        "private storage: .readyz-0123: referenced by nothing (manage.py private_files --remove)",
        f"private storage: {directory}/{TEMPORARY_PREFIX}abc: an unfinished write (manage.py private_files --remove)",
        f"private storage: {directory}/stray.pdf: referenced by nothing (manage.py private_files --remove)",
    ]

    call_command("private_files", "--remove")
    call_command("check_health")
    assert "no stray files" in capsys.readouterr().out
