"""facelib.data.archives: ``extract_once`` extracts once (stamped), atomically, refuses foreign folders, is safe
when concurrent."""

from __future__ import annotations

import os
import tarfile
import threading
from pathlib import Path

import pytest
from conftest import write_tar

from facelib.data import extract_once


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


MEMBERS = {"top/a.txt": b"alpha", "top/sub/b.txt": b"beta"}


def test_extracts_once_then_returns_the_stamped_folder(tmp_path: Path) -> None:
    archive = write_tar(tmp_path / "x.tar", MEMBERS)
    folder = extract_once(archive, tmp_path / "cache", "top", require=("a.txt",))
    assert folder == tmp_path / "cache" / "top"
    files = _files(folder)
    assert files.pop(".source").decode().split()[0] == "x.tar"            # the stamp names the archive
    assert files == {"a.txt": b"alpha", "sub/b.txt": b"beta"}
    (folder / "a.txt").write_bytes(b"edited")                               # a second call extracts nothing
    assert extract_once(archive, tmp_path / "cache", "top") == folder
    assert (folder / "a.txt").read_bytes() == b"edited"
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [".top.lock", "top"]  # no temporary folder


def test_another_archive_replaces_the_outdated_copy_whole(tmp_path: Path) -> None:
    extract_once(write_tar(tmp_path / "old.tar", {**MEMBERS, "top/gone.txt": b"old"}), tmp_path, "top")
    new = write_tar(tmp_path / "new.tar", {"top/a.txt": b"new alpha"})
    folder = extract_once(new, tmp_path, "top")
    assert {k: v for k, v in _files(folder).items() if k != ".source"} == {"a.txt": b"new alpha"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".top-")]


@pytest.mark.parametrize("members, message", [
    ({"top/a.txt": b"a", "other/evil.txt": b"x"}, r"bad.tar: expected only files under top/, found 'other/evil.txt'"),
    ({"top/b.txt": b"b"}, r"bad.tar: no top/a.txt inside"),
])
def test_a_foreign_or_incomplete_archive_is_refused_and_leaves_nothing(tmp_path: Path, members, message) -> None:
    archive = write_tar(tmp_path / "bad.tar", members)
    dest = tmp_path / "cache"
    with pytest.raises(ValueError, match=message):
        extract_once(archive, dest, "top", require=("a.txt",))
    assert [p.name for p in dest.iterdir()] == [".top.lock"]                # no folder, no temporary one


def test_not_a_tar_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar archive at all" * 40)
    with pytest.raises(ValueError, match="junk.tar: not a readable tar archive"):
        extract_once(junk, tmp_path / "cache", "top")


def test_concurrent_callers_all_get_the_complete_folder(tmp_path: Path) -> None:
    members = {f"top/{i:03d}.bin": os.urandom(20_000) for i in range(60)}
    archive = write_tar(tmp_path / "big.tar", members)
    dest = tmp_path / "cache"
    extract_once(write_tar(tmp_path / "old.tar", {"top/old.txt": b"outdated"}), dest, "top")   # an outdated copy first
    start = threading.Barrier(6)
    results, errors = [], []

    def call() -> None:
        start.wait()
        try:
            folder = extract_once(archive, dest, "top")
            results.append({k: v for k, v in _files(folder).items() if k != ".source"})
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    expected = {k.removeprefix("top/"): v for k, v in members.items()}
    assert len(results) == 6 and all(r == expected for r in results)
    assert sorted(p.name for p in dest.iterdir()) == [".top.lock", "top"]


def test_without_a_lock_the_first_complete_copy_stays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where there is no flock (Windows), a caller whose rename loses to another's complete copy keeps that copy."""
    import contextlib

    from facelib.data import archives

    monkeypatch.setattr(archives, "_locked", lambda path: contextlib.nullcontext())
    archive = write_tar(tmp_path / "x.tar", MEMBERS)
    dest = tmp_path / "cache"
    extract_all = tarfile.TarFile.extractall
    first: list[int] = []
    calls = []

    def other_caller_finishes_first(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:                                                  # while this caller extracts,
            first.append(extract_once(archive, dest, "top").stat().st_ino)   # another one completes
        return extract_all(self, *args, **kwargs)

    monkeypatch.setattr(tarfile.TarFile, "extractall", other_caller_finishes_first)
    folder = extract_once(archive, dest, "top")
    assert folder.stat().st_ino == first[0]                                  # the first copy was kept
    assert {k: v for k, v in _files(folder).items() if k != ".source"} == {"a.txt": b"alpha", "sub/b.txt": b"beta"}
    assert [p.name for p in dest.iterdir()] == ["top"]                       # the loser's copy is gone
