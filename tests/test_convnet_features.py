"""Receptive fields against hand-computed values; top patches on images built by hand."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from facelib import conv
from facelib.conv import features

# Hand-computed for VGG19: each 3x3/stride-1 conv adds 2*jump; each 2x2/stride-2 pool adds 1*jump
# and doubles the jump (1 -> 2 -> 4 -> 8 -> 16).
VGG19_RF = {
    "block1_conv1": 3, "block1_conv2": 5, "block1_pool": 6,
    "block2_conv1": 10, "block2_conv2": 14, "block2_pool": 16,
    "block3_conv1": 24, "block3_conv2": 32, "block3_conv3": 40, "block3_conv4": 48, "block3_pool": 52,
    "block4_conv1": 68, "block4_conv4": 116, "block4_pool": 124,
    "block5_conv1": 156, "block5_conv4": 252, "block5_pool": 268,
}
VGG19_JUMP = {"block1_conv2": 1, "block1_pool": 2, "block2_conv1": 2, "block3_conv1": 4, "block4_conv1": 8,
              "block5_conv1": 16, "block5_pool": 32}


@pytest.fixture(scope="module")
def vgg() -> keras.Model:
    return keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))


@pytest.mark.parametrize("layer, size", sorted(VGG19_RF.items()))
def test_vgg19_receptive_field_sizes(vgg: keras.Model, layer: str, size: int) -> None:
    assert conv.receptive_field(vgg, layer).size == size


def test_vgg19_jumps_and_box(vgg: keras.Model) -> None:
    for layer, jump in VGG19_JUMP.items():
        assert conv.receptive_field(vgg, layer).jump == jump
    # block1_pool unit (0, 0): pool over conv rows 0-1, each seeing input rows -2..3 -> box rows [-2, 4)
    assert conv.receptive_field(vgg, "block1_pool").box(0, 0) == (-2, -2, 4, 4)
    assert conv.receptive_field(vgg, "block1_pool").box(3, 1) == (4, 0, 10, 6)
    # block1_conv1 unit (5, 7): centred on pixel (5, 7), 3x3 -> rows [4, 7), cols [6, 9)
    assert conv.receptive_field(vgg, "block1_conv1").box(5, 7) == (4, 6, 7, 9)
    with pytest.raises(ValueError, match="no layer"):
        conv.receptive_field(vgg, "block9_conv1")


def test_receptive_field_strided_and_dilated() -> None:
    inp = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(4, 7, strides=2, padding="valid", name="c1")(inp)      # r=7, j=2
    x = keras.layers.Conv2D(4, 3, dilation_rate=2, padding="valid", name="c2")(x)  # k_eff=5: r=7+4*2=15
    x = keras.layers.MaxPooling2D(3, strides=2, name="p")(x)                        # r=15+2*2=19, j=4
    model = keras.Model(inp, x)
    got = [(conv.receptive_field(model, n).size, conv.receptive_field(model, n).jump) for n in ("c1", "c2", "p")]
    assert got == [(7, 2), (15, 2), (19, 4)]
    # valid padding: unit 0 of c1 sees pixels 0..6, centre 3
    assert conv.receptive_field(model, "c1").box(0, 0) == (0, 0, 7, 7)
    assert conv.receptive_field(model, "c1").box(1, 2) == (2, 4, 9, 11)


def test_top_activating_patches_finds_the_bright_spots() -> None:
    inp = keras.Input((None, None, 3))
    layer = keras.layers.Conv2D(2, 3, padding="valid", use_bias=False, name="sum3x3")
    model = keras.Model(inp, layer(inp))
    w = np.zeros((3, 3, 3, 2), np.float32)
    w[..., 0] = 1.0   # unit 0 sums its 3x3x3 window
    w[..., 1] = -1.0  # unit 1 prefers darkness
    layer.set_weights([w])
    images = np.zeros((6, 12, 12, 3), np.float32)
    spots = [(2, 3), (5, 5), (8, 1), (1, 9), (6, 6), (9, 9)]
    for i, (r, c) in enumerate(spots):
        images[i, r, c] = 0.1 * (i + 1)           # image i has a spot of brightness 0.1*(i+1)
    patches, values = conv.top_activating_patches(model, "sum3x3", 0, images, k=3)
    assert patches.shape == (3, 3, 3, 3)
    np.testing.assert_allclose(values, [1.8, 1.5, 1.2], rtol=1e-5)  # 3 channels * brightness
    for p, i in zip(patches, (5, 4, 3)):                           # brightest images first
        assert p.sum() == pytest.approx(3 * 0.1 * (i + 1), rel=1e-5)
    with pytest.raises(ValueError, match="unit must be"):
        conv.top_activating_patches(model, "sum3x3", 2, images)


def test_unit_peaks_are_the_max_and_argmax_of_the_full_activations(vgg: keras.Model) -> None:
    images = np.random.default_rng(5).uniform(size=(7, 32, 32, 3)).astype(np.float32)
    layers = ["block1_conv2", "block3_conv1"]
    full = conv.layer_activations(vgg, layers, images, batch_size=3)   # 3 + 3 + 1: the batches fill in order
    peaks = conv.unit_peaks(vgg, layers, images, batch_size=3)
    for a, p in zip(full, peaks):
        flat = a.reshape(len(a), -1, a.shape[-1])
        assert p.shape == a.shape and len(p) == 7
        np.testing.assert_array_equal(p.values, flat.max(axis=1))
        np.testing.assert_array_equal(p.positions, flat.argmax(axis=1))   # flat h * n_W + w, first on ties
        assert conv.UnitPeaks.of(a).map_shape == p.map_shape
    one = np.stack([conv.layer_activations(vgg, layers[:1], images[k:k + 1])[0][0] for k in range(7)])
    np.testing.assert_allclose(full[0], one, rtol=1e-5, atol=1e-5)        # batching changes nothing
    for unit in (0, 5):                                                   # the same nine patches either way
        a_p, a_v = conv.top_activating_patches(vgg, "block3_conv1", unit, images, k=4, activations=full[1])
        b_p, b_v = conv.top_activating_patches(vgg, "block3_conv1", unit, images, k=4, activations=peaks[1])
        np.testing.assert_array_equal(a_p, b_p)
        np.testing.assert_array_equal(a_v, b_v)
    with pytest.raises(ValueError, match="unit must be"):
        conv.top_activating_patches(vgg, "block3_conv1", 999, images, activations=peaks[1])


def test_activation_maximisation_raises_the_unit() -> None:
    inp = keras.Input((None, None, 3))
    layer = keras.layers.Conv2D(1, 3, padding="same", use_bias=False, name="red")
    model = keras.Model(inp, layer(inp))
    w = np.zeros((3, 3, 3, 1), np.float32)
    w[1, 1, 0, 0], w[1, 1, 2, 0] = 1.0, -1.0  # likes red, dislikes blue
    layer.set_weights([w])
    img = conv.activation_maximisation(model, "red", 0, steps=20, size=16, jitter=0, blur_every=0)
    assert img.shape == (16, 16, 3)
    assert img[..., 0].mean() > img[..., 2].mean() + 0.3


def test_plots_return_figures(vgg: keras.Model) -> None:
    import matplotlib

    matplotlib.use("Agg")
    kernel = np.random.default_rng(0).normal(size=(3, 3, 3, 10))
    fig = conv.plot_filters(kernel, n=10)
    assert len([a for a in fig.axes if a.images]) == 10
    fig2 = conv.plot_feature_maps(np.random.default_rng(1).uniform(size=(1, 8, 8, 5)), n=4)
    assert [a.get_title() for a in fig2.axes if a.images] == [f"channel {i}" for i in range(4)]
    for f, title in ((fig, "First-layer filters"), (fig2, "Feature maps")):
        assert f.get_suptitle() == title and not any(a.axison for a in f.axes)   # a grid of bare tiles
    with pytest.raises(ValueError):
        conv.plot_filters(np.zeros((3, 3)))


def test_unpadded_patches_stay_inside_the_image(vgg: keras.Model) -> None:
    images = np.random.default_rng(0).uniform(size=(4, 32, 32, 3)).astype(np.float32)
    patches, _ = conv.top_activating_patches(vgg, "block3_conv1", 0, images, k=4, pad=False)
    # receptive field 24 px, jump 4: every clipped patch is at most 24 px and at least 12 px on a side
    for p in patches:
        assert 12 <= p.shape[0] <= 24 and 12 <= p.shape[1] <= 24


def test_patch_mosaic_layout() -> None:
    patches = [np.full((5, 7, 3), 0.25, np.float32), np.full((40, 40, 1), 0.75, np.float32)]
    m = conv.patch_mosaic(patches, tile=8, gap=2)
    assert m.shape == (20, 20, 3)                  # 2 patches -> 2x2 grid of 8+2 px cells
    assert np.allclose(m[:8, :8], 0.25) and np.allclose(m[:8, 10:18], 0.75)  # grey patch -> RGB
    assert np.allclose(m[10:18, :8], 1.0)          # empty cell stays white


def test_the_conv_package_re_exports_lesson_06_module():
    for name in features.__all__:
        assert getattr(conv, name) is getattr(features, name) and name in conv.__all__


def test_uint8_pools_give_the_float_pools_peaks_and_patches(vgg: keras.Model) -> None:
    """Lesson 06 keeps its pools uint8: the same units, indices and patches as float32 pools of the same seed."""
    from facelib.data import ImageNetSample

    rng = np.random.default_rng(3)
    photos = rng.integers(0, 256, size=(6, 48, 48, 3), dtype=np.uint8)
    sample = ImageNetSample(photos, np.arange(6), tuple(f"n{i:08d}" for i in range(6)),
                            tuple(f"class{i}" for i in range(6)))
    f32, _ = conv.imagenet_pool(sample, 8, 32, seed=0)                   # the reference: float32 in [0, 1]
    u8, _ = conv.imagenet_pool(sample, 8, 32, seed=0, dtype=np.uint8)
    layers = ["block1_conv2", "block3_conv1"]
    ref, got = conv.unit_peaks(vgg, layers, f32, batch_size=3), conv.unit_peaks(vgg, layers, u8, batch_size=3)
    for r, g in zip(ref, got):
        np.testing.assert_allclose(g.values, r.values, rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(g.positions, r.positions)
    full_ref = conv.layer_activations(vgg, layers[:1], f32)[0]
    np.testing.assert_allclose(conv.layer_activations(vgg, layers[:1], u8)[0], full_ref, rtol=1e-6, atol=1e-6)
    for unit in (0, 7):
        for pad in (True, False):
            r_p, r_v = conv.top_activating_patches(vgg, "block3_conv1", unit, f32, k=4, activations=ref[1], pad=pad)
            g_p, g_v = conv.top_activating_patches(vgg, "block3_conv1", unit, u8, k=4, activations=got[1], pad=pad)
            np.testing.assert_array_equal(g_v, r_v)
            for a, b in zip(g_p, r_p):
                assert a.dtype == np.float32
                np.testing.assert_allclose(a, b, atol=1e-7)             # the same crops, in [0, 1]
            np.testing.assert_allclose(conv.patch_mosaic(g_p), conv.patch_mosaic(r_p), atol=1e-6)
    _, chosen_ref = conv.plot_top9_grid(vgg, layers, f32, units_per_layer=2, activations=ref)
    _, chosen_got = conv.plot_top9_grid(vgg, layers, u8, units_per_layer=2, activations=got)
    assert chosen_got == chosen_ref


def test_crop_grey_fill_and_dtypes() -> None:
    img = np.full((4, 4, 3), 255, np.uint8)
    out = features._crop(img, (-2, -2, 2, 2))                  # half outside: grey 0.5, inside white 1.0
    assert out.dtype == np.float32 and np.all(out[:2] == 0.5) and np.all(out[2:, 2:] == 1.0)
    np.testing.assert_array_equal(out, features._crop(img.astype(np.float32) / 255, (-2, -2, 2, 2)))
    m = conv.patch_mosaic([np.full((5, 5, 3), 51, np.uint8)], tile=4, gap=0)
    np.testing.assert_allclose(m, 0.2, atol=1e-6)                  # 51 / 255, not clipped to white
    with pytest.raises(TypeError, match="uint8 .* or float"):
        conv.patch_mosaic([np.ones((5, 5, 3), np.int64)])
