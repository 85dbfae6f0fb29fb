"""`facelib classroom`: every notebook runs, failures are reported (not hidden), HTML is written."""

import nbformat

from facelib import classroom, cli


def _notebook(path, cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_runs_all_notebooks_and_reports_the_failing_cell(tmp_path, capsys):
    good = _notebook(tmp_path / "01_good.ipynb", ["import os", "print(os.environ['FACELIB_FAST'], 6 * 7)"])
    bad = _notebook(tmp_path / "02_bad.ipynb", ["x = 1", "1 / 0", "print('still ran', x)"])
    out = tmp_path / "html"
    code = cli.main(["classroom", str(good), str(bad), "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 1
    assert "01_good" in text and "ok" in text
    assert "02_bad" in text and "FAILED (1 cell(s))" in text and "cell 1: ZeroDivisionError: division by zero" in text
    assert "1/2 ok" in text
    good_html = (out / "01_good.html").read_text()
    assert "0 42" in good_html  # full mode: FACELIB_FAST=0 inside the kernel
    bad_html = (out / "02_bad.html").read_text()
    assert "ZeroDivisionError" in bad_html and "still ran 1" in bad_html  # later cells still run
    index = (out / "index.html").read_text()
    assert "01_good.html" in index and "02_bad.html" in index


def test_fast_flag_and_summary_total(tmp_path):
    nb = _notebook(tmp_path / "03_fast.ipynb", ["import os\nassert os.environ['FACELIB_FAST'] == '1'"])
    runs = classroom.run_all([nb], tmp_path / "o", fast=True, progress=False)
    assert runs[0].ok and runs[0].html.is_file()
    table = classroom.summary_table(runs)
    assert table.splitlines()[-1].split()[-2:] == ["1/1", "ok"]


def test_default_notebooks_are_the_numbered_lessons():
    names = [p.name for p in classroom.default_notebooks()]
    assert names[0] == "00_welcome.ipynb" and names == sorted(names)


def test_missing_notebook_is_an_error(tmp_path, capsys):
    assert cli.main(["classroom", str(tmp_path / "nope.ipynb")]) == 2
    assert "nope.ipynb" in capsys.readouterr().err
