"""`facelib classroom`: every notebook runs, failures are reported (not hidden), HTML is written."""

import nbformat
from conftest import write_code_notebook

from facelib import classroom, cli


def test_runs_all_notebooks_and_reports_the_failing_cell(tmp_path, capsys):
    good = write_code_notebook(tmp_path / "01_good.ipynb", ["import os", "print(os.environ['FACELIB_FAST'], 6 * 7)"])
    bad = write_code_notebook(tmp_path / "02_bad.ipynb", ["x = 1", "1 / 0", "print('still ran', x)"])
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
    nb = write_code_notebook(tmp_path / "03_fast.ipynb", ["import os\nassert os.environ['FACELIB_FAST'] == '1'"])
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


def test_html_is_offline_maths_from_a_local_mathjax_and_index_says_mode_time_status(tmp_path):
    import re

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("The triplet loss $\\max(d_{ap} - d_{an} + \\alpha, 0)$"),
                nbformat.v4.new_code_cell("import os; print(os.environ['FACELIB_INTERACTIVE'], "
                                          "os.environ.get('TF_CPP_MIN_LOG_LEVEL'))")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "04_maths.ipynb"
    nbformat.write(nb, path)
    out = tmp_path / "html"
    runs = classroom.run_all([path], out, fast=True, progress=False)
    page = (out / "04_maths.html").read_text()
    assert "0 2" in page  # static widgets, quiet TensorFlow in the kernel
    external = re.findall(r"""<(?:script|link)[^>]+(?:src|href)=["']((?:https?:)?//[^"']+)""", page)
    assert external == [], f"the page loads from the network: {external}"
    src = re.search(r"""<script[^>]+src=["']([^"']*MathJax\.js[^"']*)""", page).group(1)
    assert not src.startswith(("http", "//")) and (out / src.split("?")[0]).is_file()
    assert (out / classroom.MATHJAX_DIR / "jax" / "output").is_dir()
    assert "require.min.js" not in page
    index = (out / "index.html").read_text()
    assert "fast mode" in index and "04_maths.html" in index and f"{runs[0].seconds:.1f}" in index
    assert ">ok<" in index
    # a second run reuses the MathJax copy (nothing half-written left beside it)
    classroom.run_all([path], out, fast=False, progress=False)
    assert "full mode" in (out / "index.html").read_text()
    assert sorted(p.name for p in out.iterdir()) == ["04_maths.html", "index.html", "mathjax"]


def test_execute_calls_on_cell_after_each_code_cell(tmp_path):
    path = write_code_notebook(tmp_path / "04_cells.ipynb", ["a = 1", "b = a + 1", "print(b)"])
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("text"))
    seen = []
    errors = classroom.execute(nb, tmp_path, on_cell=lambda i: seen.append((i, len(nb.cells[i].outputs))))
    assert errors == [] and seen == [(0, 0), (2, 0), (3, 1)]   # code cells only, each after it ran
