"""The questions that close lessons 06–10 (what ConvNets learn, neural style transfer, 1D and 3D
convolutions, the live door). Data only, in the format of :mod:`facelib.checks.questions_faces`;
:mod:`facelib.checks.questions` checks the answers, ``tests/test_questions.py`` recomputes every number
(output shapes by building the Keras layer, parameter counts with ``count_params()``, receptive fields
from the gradient's footprint).
"""

from __future__ import annotations

from typing import Any

QUESTIONS: list[dict[str, Any]] = [
    # ---------------------------------------------------------------- 06 · what ConvNets learn
    dict(qid="06.1", answer=5, tol=0,
         prompt="A unit sits on top of two 3×3 convolutions with stride 1. How many input pixels wide is its "
                "receptive field?",
         hint="Each layer adds (k − 1)·j pixels to the field, where j is the jump (1 here).",
         explain="r = 1 + 2 + 2 = 5: it sees 3×3 units that each see 3×3 pixels, overlapping."),
    dict(qid="06.2", answer=11, tol=0,
         prompt="A 7×7 convolution with stride 2, then a 3×3 convolution with stride 1. How many input pixels "
                "wide is the receptive field of the second layer's units?",
         hint="Use r ← r + (k − 1)·j, then j ← j·s, starting from r = j = 1.",
         explain="After the first layer r = 7 and j = 2; the 3×3 adds (3 − 1) × 2 = 4: r = 11."),
    dict(qid="06.3", answer=1792, tol=0,
         prompt="VGG19's first layer, `block1_conv1`, has 64 filters of 3×3 over the 3 colour channels, each "
                "with a bias. How many parameters does it have?",
         hint="Each filter has 3 × 3 weights per input channel, plus one bias.",
         explain="64 × (3 × 3 × 3 + 1) = 64 × 28 = 1792."),
    dict(qid="06.4", answer="b",
         prompt="Going from layer 1 to layer 5 of VGG19, what do the units' top-9 patches show?",
         options=("The same edges and colours, only at a higher resolution and sharper.",
                  "Larger and more complex patterns: edges and colours, then textures, then object parts and "
                  "objects.",
                  "Smaller and simpler patterns, because each pooling halves what a unit sees.",
                  "Random crops: after enough layers every unit responds to every image alike."),
         hint="Think of how much of the image a deep unit sees, and of what the network must recognise at "
              "its end.",
         explain="Receptive fields grow (block5_conv4 sees 252 px) and features combine: edges → textures → "
                 "parts → objects."),
    dict(qid="06.5", answer="c",
         prompt="Activation maximisation synthesises the input that excites a unit most. What does its "
                "gradient ascent change?",
         options=("The unit's own weights, until it fires for a grey image.",
                  "All the network's weights, by backpropagation from the unit.",
                  "The pixels of the input image; the network stays frozen.",
                  "Which crops of the ImageNet pool are used, chosen by gradient ascent."),
         hint="The network is already trained: what is left to vary?",
         explain="x := x + η ∇ₓ aᵤ(x): the image is the variable — the same idea as neural style transfer."),

    # ---------------------------------------------------------------- 07 · neural style transfer
    dict(qid="07.1", answer="a",
         prompt="What does gradient descent update in neural style transfer?",
         options=("The pixels of the generated image G.",
                  "The weights of VGG19.",
                  "The pixels of the style image S.",
                  "VGG19's weights and G together."),
         hint="Which of the three images is the unknown, and is VGG19 being trained here?",
         explain="G := G − η ∂J/∂G with VGG19 frozen: the network only measures content and style."),
    dict(qid="07.2", answer="c",
         prompt="What does an entry of the style (Gram) matrix, G⁽ˡ⁾ₖₖ′ = Σᵢ Σⱼ aᵢⱼₖ aᵢⱼₖ′, measure?",
         options=("Where in the image channel k fires most strongly, position by position.",
                  "The difference between the activations of C and of G at layer l.",
                  "How strongly channels k and k′ fire together, summed over all positions (an unnormalised, "
                  "uncentred correlation).",
                  "The average colour of the style image at each pixel."),
         hint="Look at what the sums run over, and at what they leave.",
         explain="The sum over positions (i, j) keeps which channels fire together (Gₖₖ: how active k is), not "
                 "where: texture, i.e. style."),
    dict(qid="07.3", answer=(64, 64), tol=0,
         prompt="A layer's activations have shape (1, 32, 32, 64) = (1, n_H, n_W, n_C). What is the shape of "
                "its style matrix?",
         hint="Unroll the activations to A of shape (n_C, n_H·n_W); the style matrix is A Aᵀ.",
         explain="One row and one column per channel: (n_C, n_C) = (64, 64), whatever the image size."),
    dict(qid="07.4", answer=0.25, tol=0.001,
         prompt="a⁽ᶜ⁾ is all ones and a⁽ᴳ⁾ all zeros, both of shape (1, 2, 2, 3). What is "
                "J_content = 1 / (4 n_H n_W n_C) · Σ (a⁽ᶜ⁾ − a⁽ᴳ⁾)²?",
         hint="Count the entries for the sum, then the normalisation 4 · n_H · n_W · n_C.",
         explain="12 entries of (1 − 0)² give 12; 4 × 2 × 2 × 3 = 48; 12 / 48 = 0.25."),
    dict(qid="07.5", answer="d",
         prompt="You double both α and β in J(G) = α J_content(C, G) + β J_style(S, G). What happens to the "
                "image G that minimises J?",
         options=("It keeps the content and gets twice as much style.",
                  "It gets twice as much content.",
                  "It turns into noise.",
                  "Nothing: J is multiplied by 2, which has the same minimiser — only β/α matters."),
         hint="What does multiplying a whole cost by a constant do to where its minimum lies?",
         explain="2J has the same minimiser as J; only the ratio β/α trades content against style."),
    dict(qid="07.6", answer="a",
         prompt="Shuffle the positions (i, j) of a layer's activations, keeping each position's vector of n_C "
                "channel values. What happens to that layer's style matrix?",
         options=("It is unchanged.",
                  "Its rows and columns are shuffled the same way.",
                  "It becomes the identity matrix.",
                  "Its diagonal stays, the rest changes."),
         hint="Write Gₖₖ′ as a sum over positions and ask whether the order of its terms matters.",
         explain="Gₖₖ′ = Σ over positions of aₖ·aₖ′: the style matrix ignores where features are, only which "
                 "fire together."),

    # ---------------------------------------------------------------- 08 · 1D convolutions
    dict(qid="08.1", answer=(10, 16), tol=0,
         prompt="A 14×1 signal goes through a Conv1D with 16 filters of size 5, stride 1, \"valid\" padding. "
                "What is the output shape (length, channels)?",
         hint="The length follows n − f + 1; the channels are set by the filters.",
         explain="14 − 5 + 1 = 10 positions, one channel per filter: (10, 16) — the lecture's example."),
    dict(qid="08.2", answer=96, tol=0,
         prompt="How many parameters does that Conv1D (16 filters of size 5 on 1 input channel, with biases) "
                "have?",
         hint="Each filter has f × n_c weights and one bias.",
         explain="16 × (5 × 1 + 1) = 96."),
    dict(qid="08.3", answer=1168, tol=0,
         prompt="The beat detector's second convolution, `Conv1D(16, 9)`, reads the 8 channels of the layer "
                "below. How many parameters does it have?",
         hint="A filter spans all the input channels: f × n_c weights, plus a bias.",
         explain="16 × (9 × 8 + 1) = 16 × 73 = 1168."),
    dict(qid="08.4", answer=32, tol=0,
         prompt="A Conv1D with filter size f = 7, stride 3 and \"valid\" padding reads n = 100 samples. "
                "How long is its output?",
         hint="n_out = ⌊(n + 2p − f) / s⌋ + 1, with p = 0 for \"valid\".",
         explain="⌊(100 − 7) / 3⌋ + 1 = 31 + 1 = 32."),
    dict(qid="08.5", answer="c",
         prompt="What does \"causal\" padding do in a Conv1D?",
         options=("Pads (f − 1)/2 zeros on each side.",
                  "Pads nothing, so the output is shorter than the input.",
                  "Puts all f − 1 zeros on the left, so output i only sees the samples up to i.",
                  "Repeats the last sample at the end."),
         hint="A real-time monitor cannot wait for samples that have not arrived yet.",
         explain="All f − 1 zeros go on the left: the length of \"same\", but no output depends on the future "
                 "(live monitors, WaveNet)."),
    dict(qid="08.6", answer="b",
         prompt="Why are the ECG windows split into training and test sets by time rather than at random?",
         options=("A random split would need more memory than a split by time.",
                  "Neighbouring windows are almost identical: a random split puts near-twins in both sets and "
                  "flatters the detector.",
                  "The test set must contain only normal beats, and those come late in the recording.",
                  "Keras cannot shuffle 1D windows, only images."),
         hint="How different are two windows that start 4 samples apart?",
         explain="A random split leaks twins of training windows into the test set; splitting by time (better: "
                 "by patient) measures generalisation."),

    # ---------------------------------------------------------------- 09 · 3D convolutions
    dict(qid="09.1", answer=(16, 16, 16, 12), tol=0,
         prompt="A 20×20×20 volume with 3 channels goes through a Conv3D with 12 filters of 5×5×5, stride 1, "
                "\"valid\" padding. What is the output shape (n₁, n₂, n₃, channels)?",
         hint="Per axis n − f + 1; the channels are set by the number of filters.",
         explain="20 − 5 + 1 = 16 on each axis, one channel per filter: (16, 16, 16, 12)."),
    dict(qid="09.2", answer=4512, tol=0,
         prompt="How many parameters does that Conv3D (12 filters of 5×5×5 over 3 channels, with biases) have?",
         hint="Each filter is f × f × f × n_c weights, plus one bias.",
         explain="12 × (5³ × 3 + 1) = 12 × 376 = 4512."),
    dict(qid="09.3", answer=(9, 9, 9, 4), tol=0,
         prompt="A 17×17×17 volume with 2 channels goes through a Conv3D with 4 filters of 3×3×3, stride 2, "
                "\"same\" padding. What is the output shape?",
         hint="\"same\" is defined by its output length: ⌈n / s⌉ per axis.",
         explain="⌈17 / 2⌉ = 9 per axis and 4 channels: (9, 9, 9, 4) (\"valid\" would give 8)."),
    dict(qid="09.4", answer="d",
         prompt="A small sphere and a short tube along z look the same in their centre slice. Why does a 2D "
                "network that sees only that slice stay at 50 %?",
         options=("It needs more epochs: with enough training it would reach the 3D model's accuracy.",
                  "2D convolutions cannot detect round shapes such as discs.",
                  "The sphere is smaller than a 3×3 filter, so 2D filters blur it away.",
                  "Its input has the same distribution for both classes: the evidence lies across slices."),
         hint="Compare what the two objects look like in the one slice that network gets.",
         explain="Identical inputs give identical answers whatever the weights; only a model that sees the "
                 "slices above and below (Conv3D) can tell them apart."),
    dict(qid="09.5", answer="a",
         prompt="A video model applies the same Conv2D to every frame and averages the features over time. "
                "Why can it not tell a square moving right from one moving left?",
         options=("Averaging over time forgets the order of the frames: a clip played backwards gets the "
                  "same answer.",
                  "The frames (16×16) are too small for a Conv2D to locate the square.",
                  "A Conv2D cannot detect a square of only 4×4 pixels.",
                  "Motion can only be seen in colour frames, and these are grey."),
         hint="What does an average over frames keep, and what does it lose?",
         explain="A mean is the same in any order, and right played backwards is left; a Conv3D filter spanning "
                 "frames sees motion."),

    # ---------------------------------------------------------------- 10 · the live door
    dict(qid="10.1", answer=1000 / 240, tol=0.2,
         prompt="The naive loop costs about 240 ms per frame (decode, detect, align, encode, identify, draw). "
                "At most how many frames per second can it answer?",
         hint="How many 240 ms slots fit in one second?",
         explain="1000 / 240 ≈ 4.2 frames per second — well below the 10 needed to feel live."),
    dict(qid="10.2", answer=9, tol=0,
         prompt="MTCNN's cost grows with the number of pixels. By what factor does that number fall when the "
                "frame is shrunk 3 times in each direction before detection?",
         hint="Both the width and the height shrink.",
         explain="(1/3) × (1/3) = 1/9: nine times fewer pixels, and a 100 px face is still 33 px wide."),
    dict(qid="10.3", answer="a",
         prompt="Between two MTCNN detections the live loop tracks the face instead. Why does that work?",
         options=("A face moves only a few pixels between frames, so a cheap search near the last box "
                  "finds it.",
                  "The tracker is a second, more accurate face detector, run on the whole frame.",
                  "FaceNet finds the face by itself once it has encoded it once.",
                  "The camera sends no frames between two detections."),
         hint="How far can a person in front of a laptop move between two frames?",
         explain="A correlation search in a small window around the last box costs a few ms instead of an "
                 "MTCNN call of 100–200 ms."),
    dict(qid="10.4", answer="b",
         prompt="You click \"Enrol me\": five frames of your face are encoded and added to the database. "
                "What is retrained?",
         options=("FaceNet, fine-tuned on your five frames with the triplet loss.",
                  "Nothing: the door compares encodings, so a new resident is just more stored encodings.",
                  "The logistic head of lesson 04, on pairs of your frames.",
                  "MTCNN, so that it learns to find your face."),
         hint="Which idea of the week lets a new person in without changing any weights?",
         explain="Enrolment stores encodings (one-shot learning); the encoder, the detector and τ stay as "
                 "they were."),
    dict(qid="10.5", answer="d",
         prompt="You slide τ up. What happens at the door?",
         options=("Fewer strangers get in, more residents are turned away.",
                  "The door answers faster.",
                  "Nothing: τ only matters for recognition, not at a door.",
                  "More strangers get in (false accepts rise), fewer residents are turned away."),
         hint="Ask which pairs a larger τ accepts that a smaller one did not.",
         explain="A larger τ accepts pairs at larger distances, genuine and impostor alike: the trade-off the "
                 "ROC curve shows."),
]
