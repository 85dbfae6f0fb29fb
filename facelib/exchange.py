"""nbgrader's exchange for a class hub, with submissions only the teachers can read.

nbgrader's default exchange hides a submission by its name (the inbound folder is ``0733``: students may
create in it but not list it, and each submission's folder name ends in a random string) but leaves its
files readable by every user (``0644`` in a ``0777`` folder): whoever learns the name reads the work.
:class:`PrivateSubmit` submits as nbgrader does, then closes the submission to everyone but its student
and the teachers' group: files ``0640``, folders ``0770``. The group is the inbound folder's (nbgrader
creates it set-group-ID, owned by the teacher who released the assignment, so every file created in it
takes that group), so the teachers collect, grade and delete submissions as before, and a classmate gets
"Permission denied" even with the name.

Use it in the nbgrader configuration every user's server reads (``deploy/nbgrader/nbgrader_config.py``):
``c.ExchangeFactory.submit = "facelib.exchange.PrivateSubmit"``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from nbgrader.exchange.default import ExchangeSubmit

__all__ = ["FILE_MODE", "FOLDER_MODE", "PrivateSubmit", "close_submission"]

#: A submitted file: read-write for its student, read for the teachers' group, nothing for others.
FILE_MODE = 0o640
#: A submission folder: its student and the teachers' group, nobody else.
FOLDER_MODE = 0o770
#: The files nbgrader writes into a submission after copying it (created first here, so that they too
#: are created inside the set-group-ID inbound folder and take the teachers' group).
_WRITTEN_AFTER = ("timestamp.txt", "submission_secret.txt")


def close_submission(folder: Path) -> bool:
    """Give ``folder`` and everything in it :data:`FILE_MODE` / :data:`FOLDER_MODE` when all of it has the
    group of its parent (the teachers'); else change nothing and return False (the teachers could not read it)."""
    group = folder.parent.stat().st_gid
    entries = [Path(d) for d, _, _ in os.walk(folder)]
    files = [Path(d) / f for d, _, fs in os.walk(folder) for f in fs]
    if any(p.stat().st_gid != group for p in entries + files):
        return False
    for path in files:
        os.chmod(path, FILE_MODE)
    for path in sorted(entries, key=lambda p: -len(p.parts)):
        os.chmod(path, FOLDER_MODE)
    return True


class PrivateSubmit(ExchangeSubmit):
    """``nbgrader submit`` whose submission only its student and the teachers' group can read."""

    def do_copy(self, src: str, dest: str) -> None:
        if Path(dest).parent != Path(self.inbound_path):
            super().do_copy(src, dest)  # the student's own cache copy
            return
        with tempfile.TemporaryDirectory() as stage:
            staged = os.path.join(stage, "submission")
            super().do_copy(src, staged)  # nbgrader's size limits and ignore patterns
            for name in _WRITTEN_AFTER:
                Path(staged, name).touch()
            shutil.copytree(staged, dest)

    def copy_files(self) -> None:
        super().copy_files()
        folder = Path(self.inbound_path) / self.assignment_filename
        if close_submission(folder):
            self.log.info("Submission %s: readable by you and the teachers only", folder.name)
        else:
            self.log.warning("Submission %s: the inbound folder is not set-group-ID to the teachers' group; "
                             "left with nbgrader's permissions", folder.name)
