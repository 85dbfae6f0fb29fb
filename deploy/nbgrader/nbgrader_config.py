# nbgrader settings that every user's server on the class hub reads: install as
# /etc/jupyter/nbgrader_config.py in the single-user environment (deploy/nbgrader/README.md).
# The teacher's course folder (`make assignments` -> build/assignments) has its own nbgrader_config.py
# for the course's paths; these are the settings students and teachers share.
import os

c = get_config()  # noqa: F821

# One course, one exchange folder shared by every user's server (a local folder on a one-server hub).
c.CourseDirectory.course_id = "facelib"
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")

# Submissions only their student and the teachers' group can read (facelib/exchange.py): nbgrader's
# default leaves them readable by anyone who learns the folder name.
c.ExchangeFactory.submit = "facelib.exchange.PrivateSubmit"

# The lessons' stubs come back in the students' version; grading waits for TensorFlow cells
# (the slowest graded cell takes seconds; nbgrader's default timeout, 30 s, is too short on a busy hub).
c.ClearSolutions.code_stub = {"python": "raise NotImplementedError"}
c.Execute.timeout = 300
# Grading kernels print short tracebacks (the check's message, no source lines that would show hidden
# tests), and the feedback pages drop the hidden tests' source.
c.Execute.extra_arguments = ["--HistoryManager.hist_file=:memory:", "--InteractiveShell.xmode=Minimal"]
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import ClearHiddenTests, GetGrades  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, ClearHiddenTests]
