"""Make the README's picture gallery (docs/gallery/*.png) with facelib itself.

    python tools/gallery.py

- ``nst.png``: the classroom preset on a 256-px photo, beside its content and style images;
- ``top9.png``: top-9 patch grids of VGG19 layers 1-5;
- ``roc.png``: FaceNet verification ROC on the LFW subset (all 4950 pairs);
- ``painter.png``: two held-out ImageNet photos and an LFW portrait painted by the cached painter of The
  Starry Night (``facelib paint train starry-night`` first; skipped when there is none).
Takes a few minutes on a 2-core CPU.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import skimage.data  # noqa: E402

from facelib import assets, conv, data, faces, live, style  # noqa: E402
from facelib.models import facenet, vgg19_features  # noqa: E402
from facelib.style import stylize  # noqa: E402

OUT = ROOT / "docs" / "gallery"


def nst_figure() -> None:
    content = skimage.data.astronaut()
    style = data.read_image(assets.fetch("style-starry-night"))
    image, _ = stylize(content, style, preset="classroom", size=256)
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.3))
    for ax, img, title in zip(axes, (content, style, image),
                              ("content C", "style S", "generated G (classroom preset)")):
        ax.imshow(img)
        ax.set_title(title)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(OUT / "nst.png", dpi=80)
    plt.close(fig)


def top9_figure() -> None:
    layers = ["block1_conv2", "block2_conv2", "block3_conv4", "block4_conv4", "block5_conv4"]
    model = vgg19_features(layers)
    pool, _ = conv.patch_pool(n=400, size=96)
    fig, _ = conv.plot_top9_grid(model, layers, pool, units_per_layer=3)
    fig.savefig(OUT / "top9.png", dpi=60)
    plt.close(fig)


def roc_figure() -> None:
    people = data.load_identity_folder(assets.fetch("lfw-subset") / "lfw")
    db = faces.FaceDatabase(facenet())
    enc = db.encode(list(people.paths), progress=False)
    i, j, same = faces.all_pairs(people.labels)
    d = faces.pair_distances(enc, pairs=(i, j))
    fpr, tpr, _ = faces.roc_curve(d, same)
    tau, acc = faces.best_threshold(d, same)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.plot(fpr, tpr, label=f"FaceNet, AUC {faces.auc(fpr, tpr):.4f}")
    ax.plot([0, 1], [0, 1], "k:", label="chance")
    ax.set_xlabel("false accept rate")
    ax.set_ylabel("true accept rate")
    ax.set_title(f"LFW subset, 4950 pairs (best τ {tau:.2f}: {acc:.1%})")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(OUT / "roc.png", dpi=80)
    plt.close(fig)


def painter_figure() -> None:
    try:
        painter = style.load_painter("starry-night")
    except FileNotFoundError as err:
        print(f"painter.png skipped: {err}")
        return
    held = style.imagenet_split()[1]
    photos = [held[2], held[7], data.read_image(live.lfw_photo("Ariel_Sharon", 9))]
    fig, axes = plt.subplots(2, 3, figsize=(9, 6.2))
    for j, photo in enumerate(photos):
        C = style.prepare_image(photo, 256)[0]
        axes[0, j].imshow(C)
        axes[0, j].set_title("photo (never trained on)" if j < 2 else "LFW portrait", fontsize=9)
        axes[1, j].imshow(painter(C))
        axes[1, j].set_title("painter, one forward pass", fontsize=9)
        for ax in axes[:, j]:
            ax.axis("off")
    fig.suptitle(f"A painter trained with the lesson's J (The Starry Night, {painter.info['steps_done']} steps at "
                 f"{painter.info['recipe']['size']} px)", fontsize=10)
    fig.tight_layout()
    fig.savefig(OUT / "painter.png", dpi=72)
    plt.close(fig)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for make in (nst_figure, top9_figure, roc_figure, painter_figure):
        make()
        print("made", make.__name__)
