"""Costs of neural style transfer against NumPy formulas, and `stylize` end to end on tiny images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from facelib.style import (
    COURSE_STYLE_LAYERS,
    PRESETS,
    Preset,
    compute_content_cost,
    compute_layer_style_cost,
    compute_style_cost,
    evaluate_costs,
    face_weights,
    gram_matrix,
    painting_names,
    prepare_image,
    resolve_style,
    stylize,
    total_cost,
    total_variation_cost,
)


def _rand(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.5, 2.0, size=shape).astype(np.float32)


def _np_gram_of_acts(a: np.ndarray) -> np.ndarray:
    """Gram matrix of (1, n_H, n_W, n_C) activations by explicit sums over positions."""
    _, n_H, n_W, n_C = a.shape
    G = np.zeros((n_C, n_C))
    for h in range(n_H):
        for w in range(n_W):
            v = a[0, h, w].astype(np.float64)
            G += np.outer(v, v)
    return G


def test_gram_matrix_against_numpy() -> None:
    A = _rand(0, (5, 12))
    expected = np.einsum("ki,ji->kj", A.astype(np.float64), A.astype(np.float64))
    G = gram_matrix(tf.constant(A)).numpy()
    assert G.shape == (5, 5)
    np.testing.assert_allclose(G, expected, rtol=1e-5)
    np.testing.assert_allclose(G, G.T, rtol=1e-6)


def test_content_cost_against_numpy() -> None:
    a_C, a_G = _rand(1, (1, 4, 6, 3)), _rand(2, (1, 4, 6, 3))
    expected = ((a_C.astype(np.float64) - a_G) ** 2).sum() / (4 * 4 * 6 * 3)
    assert compute_content_cost(tf.constant(a_C), tf.constant(a_G)).numpy() == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="same shape"):
        compute_content_cost(tf.constant(a_C), tf.constant(a_G[:, :2]))


def test_layer_style_cost_against_numpy() -> None:
    a_S, a_G = _rand(3, (1, 3, 5, 4)), _rand(4, (1, 3, 5, 4))
    d = _np_gram_of_acts(a_S) - _np_gram_of_acts(a_G)
    expected = (d**2).sum() / (4 * 4**2 * (3 * 5) ** 2)
    got = compute_layer_style_cost(tf.constant(a_S), tf.constant(a_G)).numpy()
    assert got == pytest.approx(expected, rel=1e-5)
    # style ignores *where* things are: shuffling positions leaves the Gram matrix, so the cost, unchanged
    perm = np.random.default_rng(0).permutation(15)
    shuffled = a_G.reshape(1, 15, 4)[:, perm].reshape(1, 3, 5, 4)
    assert (compute_layer_style_cost(tf.constant(a_S), tf.constant(shuffled)).numpy()
            == pytest.approx(expected, rel=1e-4))


def test_style_cost_weights_layers() -> None:
    shapes = [(1, 6, 6, 3), (1, 3, 3, 5)]
    S = [_rand(10 + i, s) for i, s in enumerate(shapes)]
    G = [_rand(20 + i, s) for i, s in enumerate(shapes)]
    layers = [("a", 0.3), ("b", 0.7)]
    expected = 0.0
    for (_, lam), s, g in zip(layers, S, G):
        n_C, n = s.shape[-1], s.shape[1] * s.shape[2]
        expected += lam * ((_np_gram_of_acts(s) - _np_gram_of_acts(g)) ** 2).sum() / (4 * n_C**2 * n**2)
    got = compute_style_cost([tf.constant(x) for x in S], [tf.constant(x) for x in G], layers).numpy()
    assert got == pytest.approx(expected, rel=1e-5)
    # the course's lists carry the content activation last: it is ignored
    extra = tf.zeros((1, 2, 2, 7))
    got2 = compute_style_cost([tf.constant(x) for x in S] + [extra], [tf.constant(x) for x in G] + [extra], layers)
    assert got2.numpy() == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="one per style layer"):
        compute_style_cost([tf.constant(S[0])], [tf.constant(G[0])], layers + [("c", 0.1), ("d", 0.1)])


def test_total_cost_is_a_weighted_sum() -> None:
    assert total_cost(2.0, 3.0) == pytest.approx(10 * 2 + 40 * 3)
    assert total_cost(1.5, 0.25, alpha=2, beta=8) == pytest.approx(5.0)


def test_total_variation_against_numpy_loops() -> None:
    G = np.random.default_rng(5).uniform(size=(2, 5, 4, 3)).astype(np.float32)
    m, H, W, C = G.shape
    v = sum(abs(float(G[b, i + 1, j, c]) - float(G[b, i, j, c]))
            for b in range(m) for i in range(H - 1) for j in range(W) for c in range(C)) / (m * (H - 1) * W * C)
    h = sum(abs(float(G[b, i, j + 1, c]) - float(G[b, i, j, c]))
            for b in range(m) for i in range(H) for j in range(W - 1) for c in range(C)) / (m * H * (W - 1) * C)
    assert total_variation_cost(tf.constant(G)).numpy() == pytest.approx(v + h, rel=1e-5)
    assert total_variation_cost(tf.ones((1, 4, 4, 3))).numpy() == 0.0


@pytest.fixture(scope="module")
def tiny() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:40, 0:48]
    content = np.stack([(xx * 5) % 256, (yy * 6) % 256, np.full_like(xx, 90)], -1).astype(np.uint8)
    style = (rng.uniform(size=(30, 30, 3)) > 0.5).astype(np.uint8) * 255  # a high-contrast texture
    return content, style


def test_stylize_lowers_the_total_cost(tiny: tuple[np.ndarray, np.ndarray]) -> None:
    content, style = tiny
    calls = []
    img, hist = stylize(content, style, preset="course", size=32, steps=8, precision="float32",
                        callback=lambda step, image, costs: calls.append((step, image.shape, costs["total"])),
                        callback_every=4)
    assert img.shape == (27, 32, 3) and img.dtype == np.float32  # 40x48 -> longest side 32
    assert 0.0 <= img.min() and img.max() <= 1.0
    assert len(hist["total"]) == len(hist["content"]) == len(hist["style"]) == 8
    assert hist["total"][-1] < 0.8 * hist["total"][0]
    for J, Jc, Js in zip(hist["total"], hist["content"], hist["style"]):  # J = 10 Jc + 40 Js
        assert J == pytest.approx(10 * Jc + 40 * Js, rel=1e-4)
    assert [c[0] for c in calls] == [4, 8] and calls[0][1] == (27, 32, 3)


def test_stylize_lbfgs_and_coarse_to_fine(tiny: tuple[np.ndarray, np.ndarray]) -> None:
    content, style = tiny
    img, hist = stylize(content, style, preset="classroom", size=40, steps=6, coarse_steps=3,
                        optimizer="lbfgs", precision="float32")
    assert img.shape == (33, 40, 3)  # 40x48 -> longest side 40; the coarse stage has longest side 20
    assert hist["size"][:3] == [20, 20, 20] and set(hist["size"][3:]) == {40}
    full = hist["total"][3:]
    assert min(full) < full[0]


def test_stylize_preserve_color_keeps_content_chroma(tiny: tuple[np.ndarray, np.ndarray]) -> None:
    from skimage.color import rgb2yuv

    content, style = tiny
    img, _ = stylize(content, style, preset="course", size=32, steps=3, preserve_color=True, precision="float32")
    small = prepare_image(content, 32)[0]
    # U and V of the output equal the content's wherever the clip to [0, 1] did not bite
    inside = (img > 0.01).all(-1) & (img < 0.99).all(-1)
    np.testing.assert_allclose(rgb2yuv(img)[inside][:, 1:], rgb2yuv(small)[inside][:, 1:], atol=2e-3)


@pytest.mark.parametrize("bad, match", [
    (np.zeros((20, 20), np.uint8), r"\(H, W, 3\)"),
    (np.zeros((20, 20, 1), np.uint8), r"\(H, W, 3\)"),
    (np.zeros((0, 20, 3), np.uint8), "empty"),
    (np.full((20, 20, 3), 2.0, np.float32), r"\[0, 1\]"),
])
def test_stylize_rejects_bad_images(bad: np.ndarray, match: str, tiny: tuple[np.ndarray, np.ndarray]) -> None:
    with pytest.raises(ValueError, match=match):
        stylize(bad, tiny[1], size=32, steps=1)
    with pytest.raises(ValueError, match="style image"):
        stylize(tiny[0], bad, size=32, steps=1)


def test_stylize_rejects_bad_arguments(tiny: tuple[np.ndarray, np.ndarray], tmp_path: Path) -> None:
    content, style = tiny
    with pytest.raises(ValueError, match="size must be a positive integer"):
        stylize(content, style, size=0, steps=1)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        stylize(content, style, size=32, steps=0)
    with pytest.raises(ValueError, match="unknown preset"):
        stylize(content, style, preset="fancy")
    with pytest.raises(ValueError, match="at least 16 pixels on the shorter side"):
        stylize(np.zeros((10, 200, 3), np.uint8), style, size=100, steps=1)
    with pytest.raises(ValueError, match="init must be"):
        stylize(content, style, size=32, steps=1, init="zeros")
    text = tmp_path / "notes.png"
    text.write_text("this is not an image")
    with pytest.raises(ValueError, match="notes.png"):
        stylize(text, style, size=32, steps=1)
    with pytest.raises(FileNotFoundError, match="missing.png"):
        stylize(tmp_path / "missing.png", style, size=32, steps=1)


def test_evaluate_costs_matches_the_formulas(tiny: tuple[np.ndarray, np.ndarray]) -> None:
    from facelib.models.vgg import vgg19_features

    content, style = tiny
    small_c = prepare_image(content, 32)[0]
    gen = np.clip(small_c + 0.1, 0, 1)
    costs = evaluate_costs(gen, content, style, preset="course", precision="float32")
    # recompute with NumPy from the raw VGG activations (course preset: [0,1] inputs straight in)
    layers = [n for n, _ in COURSE_STYLE_LAYERS]
    model = vgg19_features(layers + ["block5_conv4"])
    S = prepare_image(style, 32, like=small_c.shape[:2])
    aG = [a.numpy().astype(np.float64) for a in model(gen[None])]
    aC = model(small_c[None])[-1].numpy().astype(np.float64)
    aS = [a.numpy().astype(np.float64) for a in model(S)]
    J_content = ((aC - aG[-1]) ** 2).sum() / (4 * np.prod(aC.shape[1:]))
    J_style = 0.0
    for s_, g_ in zip(aS[:-1], aG[:-1]):
        _, h, w, c = s_.shape
        d = (np.einsum("pk,pj->kj", s_.reshape(-1, c), s_.reshape(-1, c))
             - np.einsum("pk,pj->kj", g_.reshape(-1, c), g_.reshape(-1, c)))
        J_style += 0.2 * (d**2).sum() / (4 * c**2 * (h * w) ** 2)
    assert costs["content"] == pytest.approx(J_content, rel=1e-3)
    assert costs["style"] == pytest.approx(J_style, rel=1e-3)
    assert costs["total"] == pytest.approx(10 * J_content + 40 * J_style, rel=1e-3)


def test_self_checks_accept_the_formulas_and_reject_mistakes(capsys: pytest.CaptureFixture) -> None:
    from facelib.checks import CheckFailed
    from facelib.checks import nst as checks

    assert checks.check_compute_content_cost(compute_content_cost)
    assert checks.check_gram_matrix(gram_matrix)
    assert checks.check_compute_layer_style_cost(compute_layer_style_cost)
    assert checks.check_total_cost(total_cost)
    with pytest.raises(CheckFailed):  # forgot the 1/4
        checks.check_compute_content_cost(
            lambda a, b: tf.reduce_sum(tf.square(a - b)) / tf.cast(tf.size(a), tf.float32))
    with pytest.raises(CheckFailed):  # the lecture notes' typo: a difference instead of a sum
        checks.check_total_cost(lambda Jc, Js, alpha=10, beta=40: alpha * Jc - beta * Js)
    with pytest.raises(CheckFailed):  # A^T A instead of A A^T: wrong shape
        checks.check_gram_matrix(lambda A: tf.matmul(A, A, transpose_a=True))
    with pytest.raises(CheckFailed):  # reshaping straight to (n_C, n_H*n_W) mixes channels
        def wrong_unroll(a_S, a_G):
            _, h, w, c = a_G.shape
            S, G = tf.reshape(a_S, [c, h * w]), tf.reshape(a_G, [c, h * w])
            d = tf.matmul(S, S, transpose_b=True) - tf.matmul(G, G, transpose_b=True)
            return tf.reduce_sum(tf.square(d)) / (4 * c**2 * (h * w) ** 2)
        checks.check_compute_layer_style_cost(wrong_unroll)
    assert "expected" in capsys.readouterr().out


def test_preset_validates_itself_and_replace_overrides() -> None:
    with pytest.raises(ValueError, match="size must be a positive integer"):
        Preset(size=0, steps=1)
    with pytest.raises(ValueError, match="optimizer must be"):
        Preset(size=32, steps=1, optimizer="sgd")
    with pytest.raises(ValueError, match="beta must be a finite number"):
        PRESETS["course"].replace(beta=float("nan"))
    with pytest.raises(ValueError, match="unknown option.*colour"):
        PRESETS["course"].replace(colour=True)
    with pytest.raises(ValueError, match="above the cap of 1024"):
        PRESETS["course"].replace(size=100000)
    p = PRESETS["course"].replace(beta=1.0, size=None)  # None leaves a field as it is
    assert (p.beta, p.size, p.alpha) == (1.0, 400, 10.0) and PRESETS["course"].beta == 40.0
    assert Preset(size=32, steps=1, style_layers=["block1_conv1", "block2_conv1"]).style_layers == (
        ("block1_conv1", 0.5), ("block2_conv1", 0.5))


def test_stylize_takes_a_preset_object_and_overrides(tiny: tuple[np.ndarray, np.ndarray]) -> None:
    content, style = tiny
    recipe = Preset(size=32, steps=3, precision="float32")
    img, hist = stylize(content, style, preset=recipe)
    img2, hist2 = stylize(content, style, "course", size=32, steps=3, precision="float32", seed=0)
    assert img.shape == (27, 32, 3) and len(hist["total"]) == 3
    np.testing.assert_allclose(hist["total"], hist2["total"], rtol=1e-5)
    with pytest.raises(ValueError, match="unknown option"):
        stylize(content, style, size=32, steps=1, colour=True)


def test_stylize_runs_the_lessons_cost_functions(tiny: tuple[np.ndarray, np.ndarray]) -> None:
    """The history's J is total_cost(compute_content_cost, sum of λ compute_layer_style_cost) of G."""
    from facelib.models.vgg import vgg19_features
    from facelib.style import costs, images, optim, presets, transfer

    content, style = tiny
    img, hist = stylize(content, style, "course", size=32, steps=1, precision="float32", init="content")
    C = prepare_image(content, 32)
    S = prepare_image(style, 32, like=C.shape[1:3])
    model = vgg19_features([n for n, _ in COURSE_STYLE_LAYERS] + ["block5_conv4"])
    aC, aS = model(C), model(S)
    J = total_cost(compute_content_cost(aC[-1], aC[-1]), compute_style_cost(aS, aC))
    assert hist["total"][0] == pytest.approx(float(J), rel=1e-4)  # step 1 is evaluated at G = C

    for module in (costs, transfer, images, optim, presets):
        assert "environ" not in open(module.__file__).read(), module.__name__


def test_weighted_styles_blend_gram_targets(tiny: tuple[np.ndarray, np.ndarray]) -> None:
    content, style = tiny
    kw = dict(preset="course", size=32, steps=2, precision="float32")
    _, one = stylize(content, style, **kw)
    _, same = stylize(content, [(style, 0.7), (style, 0.3)], **kw)  # the same painting twice = that painting
    np.testing.assert_allclose(one["total"], same["total"], rtol=1e-5)
    flat = np.full((30, 30, 3), 128, np.uint8)
    _, mixed = stylize(content, [(style, 0.5), (flat, 0.5)], **kw)
    assert abs(mixed["style"][0] - one["style"][0]) > 1e-3 * one["style"][0]
    with pytest.raises(ValueError, match="style weights"):
        stylize(content, [(style, -1.0), (flat, 1.0)], **kw)


def test_style_scale_and_painting_names(tiny: tuple[np.ndarray, np.ndarray]) -> None:
    content, style = tiny
    gen = prepare_image(content, 32)[0]
    a = evaluate_costs(gen, content, style, preset="course")
    b = evaluate_costs(gen, content, style, preset="course", style_scale=2.0)
    assert a["content"] == b["content"] and a["style"] != pytest.approx(b["style"], rel=1e-3)
    assert "starry-night" in painting_names()
    assert str(resolve_style("starry-night")).endswith("starry_night.jpg")
    with pytest.raises(ValueError, match="neither an image file nor a painting"):
        resolve_style("no-such-painting")


def test_mask_keeps_the_photo_outside(tiny: tuple[np.ndarray, np.ndarray]) -> None:
    content, style = tiny
    mask = np.zeros((40, 48), np.float32)
    mask[:, 24:] = 1.0
    img, _ = stylize(content, style, "course", size=48, steps=3, precision="float32", mask=mask)
    photo = prepare_image(content, 48)[0]
    np.testing.assert_allclose(img[:, :20], photo[:, :20], atol=1e-5)
    assert np.abs(img[:, 28:] - photo[:, 28:]).mean() > 1e-3


def test_large_sizes_go_coarse_to_fine() -> None:
    from facelib.style import presets

    plan = presets._stages(PRESETS["classroom"].replace(size=1024), (1024, 768, 3), 16)
    assert plan == [(256, 30), (512, 50), (1024, 12)]
    assert presets._stages(PRESETS["course"], (400, 400, 3), 16) == [(400, 200)]


def test_coarse_levels_add_halvings_coarsest_first() -> None:
    from facelib.style import presets

    course = PRESETS["course"]
    assert presets._stages(course.replace(size=256, coarse_steps=20), (256, 256, 3), 16) == \
        [(128, 20), (256, 200)]
    assert presets._stages(course.replace(size=256, coarse_steps=20, coarse_levels=2), (256, 256, 3), 16) == \
        [(64, 20), (128, 20), (256, 200)]
    for bad in (0, 5, 1.5, True):
        with pytest.raises(ValueError, match="coarse_levels"):
            course.replace(coarse_levels=bad)


def test_face_weights_and_content_weights_keep_the_face() -> None:
    import skimage.data

    photo = skimage.data.astronaut()[:300, 50:350]
    w = face_weights(photo)
    assert w is not None and w.shape == photo.shape[:2]
    assert w.min() == pytest.approx(1.0) and w.max() == pytest.approx(9.0)
    assert face_weights(np.full((64, 64, 3), 128, np.uint8)) is None  # no face
    style = (np.random.default_rng(0).uniform(size=(40, 40, 3)) > 0.5).astype(np.uint8) * 255
    kw = dict(preset="classroom", size=64, steps=6, coarse_steps=0, precision="float32")
    plain, _ = stylize(photo, style, **kw)
    kept, _ = stylize(photo, style, content_weights=w, **kw)
    small = prepare_image(photo, 64)[0]
    face = prepare_image(np.repeat(w[..., None], 3, -1) / 9.0, 64)[0][..., 0] > 0.9
    assert np.abs(kept - small)[face].mean() < np.abs(plain - small)[face].mean()
    with pytest.raises(ValueError, match="content_weights"):
        stylize(photo, style, content_weights=-w, **kw)


def test_texture_start_keeps_the_layout_and_takes_the_paintings_detail() -> None:
    from facelib.style.images import _match_colors, _texture_start

    h, w = 64, 96
    yy, xx = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    content = np.stack([0.2 + 0.6 * xx, 0.3 + 0.4 * yy, 0.5 + 0.2 * xx * yy], -1)[None].astype(np.float32)
    checker = np.where((np.add.outer(np.arange(h), np.arange(w)) % 2) == 0, 0.08, -0.08)[..., None]
    style = (np.array([0.45, 0.5, 0.55]) + checker + 0 * content[0])[None].astype(np.float32)  # nothing clips
    start = _texture_start(content, style)
    assert start.shape == content.shape and start.dtype == np.float32

    def blocks(x: np.ndarray) -> np.ndarray:  # 8x8 block means: the layout, blind to a 2-px checkerboard
        return x[0].reshape(h // 8, 8, w // 8, 8, 3).mean(axis=(1, 3))

    base = _match_colors(content, style)
    assert np.abs(blocks(start) - blocks(base))[1:-1, 1:-1].max() < 0.02  # (the borders are resampled)
    detail = start[0] - np.repeat(np.repeat(blocks(start), 8, 0), 8, 1)
    corr = np.corrcoef(detail[8:-8, 8:-8].ravel(), np.broadcast_to(checker, detail.shape)[8:-8, 8:-8].ravel())[0, 1]
    assert corr > 0.9  # the painting's detail is there; the colour-matched photo alone has none of it:
    assert abs(np.corrcoef((base[0] - np.repeat(np.repeat(blocks(base), 8, 0), 8, 1))[8:-8, 8:-8].ravel(),
                           np.broadcast_to(checker, detail.shape)[8:-8, 8:-8].ravel())[0, 1]) < 0.1


def test_stylize_content_texture_start_lowers_the_first_style_cost(tiny: tuple[np.ndarray, np.ndarray]) -> None:
    content, style = tiny
    first = {}
    for init in ("content+colors", "content+texture"):
        _, hist = stylize(content, style, "course", size=48, steps=1, optimizer="lbfgs", init=init,
                          precision="float32")
        first[init] = hist["style"][0]
    assert first["content+texture"] < first["content+colors"]


def test_stylize_lbfgs_returns_its_best_image_inside_the_box(tiny: tuple[np.ndarray, np.ndarray]) -> None:
    content, style = tiny
    seen = []
    img, hist = stylize(content, style, "course", size=40, steps=8, optimizer="lbfgs", init="content+texture",
                        precision="float32", callback=lambda step, image, costs: seen.append(image))
    assert 0.0 <= img.min() and img.max() <= 1.0 and all(0.0 <= s.min() and s.max() <= 1.0 for s in seen)
    C, S = prepare_image(content, 40)[0], prepare_image(style, 40, like=img.shape[:2])[0]
    again = evaluate_costs(img, C, S, preset="course", precision="float32")["total"]
    assert again == pytest.approx(min(hist["total"]), rel=1e-3)  # the image returned is the best one seen
    assert min(hist["total"]) < hist["total"][0]


class _Quadratic:
    """A stand-in cost ``J = Σ w (G - T)²`` with the ``costs(G)`` face of the optimiser's problems."""

    def __init__(self, target: np.ndarray, weights: np.ndarray) -> None:
        self.target, self.weights = tf.constant(target), tf.constant(weights)

    def costs(self, G: tf.Tensor) -> tuple[tf.Tensor, ...]:
        J = tf.reduce_sum(self.weights * tf.square(G - self.target))
        return J, J, J, J


def test_the_course_loop_follows_keras_adam_step_by_step() -> None:
    import keras

    from facelib.style.optim import _run_adam

    rng = np.random.default_rng(3)
    G0 = rng.uniform(size=(1, 6, 5, 3)).astype(np.float32)
    problem = _Quadratic(rng.uniform(-0.2, 1.2, G0.shape).astype(np.float32),   # some pixels pushed past [0, 1]
                         rng.uniform(0.1, 30.0, G0.shape).astype(np.float32))
    ours: list[np.ndarray] = []
    _run_adam(problem, G0, 12, 0.05, lambda G, *_: ours.append(np.array(G)), jit=False)  # type: ignore[arg-type]
    G, opt, theirs = tf.Variable(G0), keras.optimizers.Adam(learning_rate=0.05), []
    for _ in range(12):  # the lesson's own step: keras.optimizers.Adam, then the clip to [0, 1]
        with tf.GradientTape() as tape:
            J = problem.costs(G)[0]
        opt.apply_gradients([(tape.gradient(J, G), G)])
        G.assign(tf.clip_by_value(G, 0.0, 1.0))
        theirs.append(G.numpy())
    assert len(ours) == 12
    for k, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-7, err_msg=f"step {k + 1}")  # bit-equal on TF 2.21
    assert np.abs(ours[-1] - G0).max() > 0.3   # it moved: the comparison is not of two still images


def test_the_bfloat16_feature_model_keeps_one_bfloat16_copy_and_computes_as_mixed_precision() -> None:
    import keras

    from facelib.models.vgg import vgg19_features
    from facelib.style.optim import _feature_model

    layers = ("block1_conv1", "block2_conv2")
    ours = _feature_model(layers, "bfloat16")
    old = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        mixed = vgg19_features(list(layers))   # float32 weights, cast to bfloat16 at every call
    finally:
        keras.mixed_precision.set_global_policy(old)
    assert {w.dtype for w in ours.weights} == {"bfloat16"}
    assert {w.dtype for w in mixed.weights} == {"float32"}
    x = tf.constant(np.random.default_rng(0).uniform(size=(1, 24, 20, 3)).astype(np.float32))
    for a, b in zip(ours(x), mixed(x)):
        assert a.dtype == b.dtype == tf.bfloat16
        np.testing.assert_array_equal(tf.cast(a, tf.float32).numpy(), tf.cast(b, tf.float32).numpy())
    assert float(tf.reduce_max(tf.cast(ours(x)[1], tf.float32))) > 0   # not two zero maps
