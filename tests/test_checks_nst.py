"""The lesson-07 self-checks: the reference passes, the untouched stub says "not attempted", typical mistakes fail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf

from facelib import style
from facelib.checks import CheckFailed
from facelib.checks import nst as checks


def _stub(*args: Any, **kwargs: Any) -> Any:
    # YOUR CODE HERE
    raise NotImplementedError


def _fails(check: Callable, fn: Callable, capsys: pytest.CaptureFixture, *expect: str) -> str:
    with pytest.raises(CheckFailed):
        check(fn)
    out = capsys.readouterr().out
    assert "✗" in out and "all" not in out.splitlines()[-1]
    for text in expect:
        assert text in out, out
    return out


# the published course values are anchors of the checks, with the tolerance the module states
def test_course_values_reproduce_within_the_stated_tolerance() -> None:
    a_C, a_G = checks._course_normals((1, 1, 4, 4, 3), (1, 1, 4, 4, 3))
    assert float(style.compute_content_cost(a_C[-1], a_G[-1])) == pytest.approx(7.0568767, rel=checks.COURSE_RTOL)
    (A,) = checks._course_normals((3, 2))
    np.testing.assert_allclose(style.gram_matrix(A).numpy()[0], [63.193256, -26.729713, -7.732155],
                               rtol=checks.COURSE_RTOL)
    a_S, a_G = checks._course_normals((1, 4, 4, 3), (1, 4, 4, 3))
    assert float(style.compute_layer_style_cost(a_S, a_G)) == pytest.approx(14.01649, rel=checks.COURSE_RTOL)
    assert style.total_cost(0.2, 0.8) == pytest.approx(34) and style.total_cost(0.3, 0.5, 3, 8) == pytest.approx(4.9)


@pytest.mark.parametrize("check", [checks.check_compute_content_cost, checks.check_gram_matrix,
                                   checks.check_compute_layer_style_cost, checks.check_total_cost,
                                   checks.check_compute_style_cost, checks.check_train_step])
def test_untouched_stub_is_not_attempted(check: Callable, capsys: pytest.CaptureFixture) -> None:
    assert not check(_stub)
    out = capsys.readouterr().out
    assert "not attempted" in out and "passed" not in out


def test_content_cost_mistakes(capsys: pytest.CaptureFixture) -> None:
    assert checks.check_compute_content_cost(style.compute_content_cost)
    capsys.readouterr()
    # mean instead of sum / (4 n_H n_W n_C)
    _fails(checks.check_compute_content_cost, lambda a, b: tf.reduce_mean(tf.square(a - b)), capsys)
    # NumPy: right values, but no gradient can flow
    out = _fails(checks.check_compute_content_cost,
                 lambda a, b: np.sum(np.square(np.asarray(a) - np.asarray(b))) / (4 * np.prod(np.shape(a)[1:])), capsys,
                 "use TensorFlow ops")
    assert out.count("✓") >= 4  # the values themselves were right


def test_gram_matrix_mistakes(capsys: pytest.CaptureFixture) -> None:
    assert checks.check_gram_matrix(style.gram_matrix)
    capsys.readouterr()
    _fails(checks.check_gram_matrix, lambda A: tf.matmul(A, A, transpose_a=True), capsys, "shape differs")
    _fails(checks.check_gram_matrix, lambda A: np.asarray(A) @ np.asarray(A).T, capsys, "use TensorFlow ops")


def test_layer_style_cost_mistakes(capsys: pytest.CaptureFixture) -> None:
    assert checks.check_compute_layer_style_cost(style.compute_layer_style_cost)
    capsys.readouterr()

    def reshape_without_transpose(a_S, a_G):  # type: ignore[no-untyped-def]
        _, h, w, c = a_G.shape
        S, G = tf.reshape(a_S, [c, h * w]), tf.reshape(a_G, [c, h * w])
        d = tf.matmul(S, S, transpose_b=True) - tf.matmul(G, G, transpose_b=True)
        return tf.reduce_sum(tf.square(d)) / (4 * c**2 * (h * w) ** 2)

    def forgot_square_of_positions(a_S, a_G):  # type: ignore[no-untyped-def]
        _, h, w, c = a_G.shape
        d = style.style_gram(a_S) - style.style_gram(a_G)
        return tf.reduce_sum(tf.square(d)) / (4 * c**2 * (h * w))

    _fails(checks.check_compute_layer_style_cost, reshape_without_transpose, capsys, "14.01649")
    _fails(checks.check_compute_layer_style_cost, forgot_square_of_positions, capsys)


def test_total_cost_mistakes(capsys: pytest.CaptureFixture) -> None:
    _fails(checks.check_total_cost, lambda Jc, Js, alpha=10, beta=40: alpha * Jc - beta * Js, capsys, "34")
    _fails(checks.check_total_cost, lambda Jc, Js, alpha=10, beta=40: 10 * Jc + 40 * Js, capsys, "4.9")


def test_style_cost_accepts_the_course_signature_and_rejects_mistakes(capsys: pytest.CaptureFixture) -> None:
    assert checks.check_compute_style_cost(style.compute_style_cost)

    def course_solution(style_image_output, generated_image_output, STYLE_LAYERS):  # type: ignore[no-untyped-def]
        J_style = 0
        a_S, a_G = style_image_output[:-1], generated_image_output[:-1]
        for i, weight in zip(range(len(a_S)), STYLE_LAYERS):
            J_style += weight[1] * style.compute_layer_style_cost(a_S[i], a_G[i])
        return J_style

    assert checks.check_compute_style_cost(course_solution)
    capsys.readouterr()

    def content_layer_kept(S, G, STYLE_LAYERS):  # type: ignore[no-untyped-def]
        return sum(0.2 * style.compute_layer_style_cost(s, g) for s, g in zip(S, G))  # every output, λ = 0.2

    def weights_ignored(S, G, STYLE_LAYERS):  # type: ignore[no-untyped-def]
        return sum(style.compute_layer_style_cost(s, g) for s, g in zip(S[:-1], G[:-1]))

    def mean_for_sum(S, G, STYLE_LAYERS):  # type: ignore[no-untyped-def]
        return tf.reduce_mean([w * style.compute_layer_style_cost(s, g) for (_, w), s, g in zip(STYLE_LAYERS, S, G)])

    def numpy_sum(S, G, STYLE_LAYERS):  # type: ignore[no-untyped-def]
        return float(np.sum([w * style.compute_layer_style_cost(s, g).numpy()
                             for (_, w), s, g in zip(STYLE_LAYERS, S, G)]))

    _fails(checks.check_compute_style_cost, content_layer_kept, capsys, "content activation last")
    _fails(checks.check_compute_style_cost, weights_ignored, capsys, "times its λ")
    _fails(checks.check_compute_style_cost, mean_for_sum, capsys)
    _fails(checks.check_compute_style_cost, numpy_sum, capsys, "use TensorFlow ops")


def _make_train_step(*, clip: bool = True, sign: float = 1.0, fresh_optimizer: bool = False, swap: bool = False,
                     numpy_cost: bool = False) -> Callable:
    def train_step(generated_image, vgg_model_outputs, a_C, a_S, STYLE_LAYERS, optimizer, alpha=10, beta=40):  # type: ignore[no-untyped-def]
        with tf.GradientTape() as tape:
            a_G = vgg_model_outputs(generated_image)
            J_style = style.compute_style_cost(a_S, a_G, STYLE_LAYERS)
            J_content = style.compute_content_cost(a_C[-1], a_G[-1])
            if numpy_cost:
                J_style, J_content = J_style.numpy(), J_content.numpy()
            J = (style.total_cost(J_content, J_style, beta, alpha) if swap
                 else style.total_cost(J_content, J_style, alpha, beta))
        grad = tape.gradient(J, generated_image)
        opt = keras.optimizers.Adam(learning_rate=0.01) if fresh_optimizer else optimizer
        opt.apply_gradients([(sign * grad, generated_image)])
        if clip:
            generated_image.assign(tf.clip_by_value(generated_image, 0.0, 1.0))
        return J
    return train_step


def test_train_step_reference_passes_also_under_tf_function() -> None:
    assert checks.check_train_step(_make_train_step())
    assert checks.check_train_step(tf.function(_make_train_step()))


@pytest.mark.parametrize("kwargs, expect", [
    ({"clip": False}, "clip the image"),
    ({"sign": -1.0}, "G after two steps"),
    ({"fresh_optimizer": True}, "two Adam updates"),
    ({"swap": True}, "cost of the image before the step"),
    ({"numpy_cost": True}, "use TensorFlow ops"),
])
def test_train_step_mistakes_fail(kwargs: dict, expect: str, capsys: pytest.CaptureFixture) -> None:
    _fails(checks.check_train_step, _make_train_step(**kwargs), capsys, expect)


def test_the_packages_train_step_passes_its_check() -> None:
    assert checks.check_train_step(style.train_step)


def test_lesson_07_solutions_are_collapsed_markdown_and_pass_their_checks() -> None:
    """No solution is a code cell (Run All would replace the student's function and print a pass)."""
    import re
    from pathlib import Path

    import nbformat

    import facelib.checks

    nb = nbformat.read(Path(__file__).resolve().parent.parent / "notebooks" / "07_neural_style_transfer.ipynb", 4)
    setup = next(c for c in nb.cells if c.cell_type == "code")
    ns: dict = {}
    exec(compile(setup.source.replace("# NBVAL_IGNORE_OUTPUT", ""), "setup", "exec"), ns)
    solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
    assert {c.metadata["facelib"]["solution"] for c in solutions} >= {
        "compute_content_cost", "gram_matrix", "compute_layer_style_cost", "compute_style_cost", "total_cost",
        "train_step"}
    for cell in solutions:
        assert cell.cell_type == "markdown" and cell.metadata["jupyter"]["source_hidden"]
        assert cell.source.startswith("**Solution** — expand to reveal, copy into the cell above.")
        (code,) = re.findall(r"```python\n(.*?)```", cell.source, re.S)
        space = dict(ns)
        exec(compile(code, cell.metadata["facelib"]["solution"], "exec"), space)
        check = getattr(facelib.checks, cell.metadata["facelib"]["check"])  # the painter's is checks.painter's
        assert check(space[cell.metadata["facelib"]["solution"]])
    for cell in nb.cells:  # every stub is untouched, so Run All prints "not attempted"
        if cell.cell_type == "code" and "# YOUR CODE HERE" in cell.source:
            assert "raise NotImplementedError" in cell.source
