"""The questions that close lessons 00–05 (faces: verification, one-shot learning, Siamese networks,
the triplet loss, binary verification, the pretrained FaceNet). Data only; :mod:`facelib.checks.questions`
checks the answers.

Each entry: ``qid`` ("03.2" = lesson 03, question 2), ``prompt``, the right ``answer`` (a letter for a
multiple choice with ``options``; a number, with an accepted absolute difference ``tol``; or a tuple of
whole numbers for a shape), ``explain`` (one line, printed after a right answer) and ``hint`` (one line,
printed after a wrong one; it points at the reasoning and never names the right option). Every numeric
answer is recomputed independently in ``tests/test_questions.py``.
"""

from __future__ import annotations

from typing import Any

QUESTIONS: list[dict[str, Any]] = [
    # ---------------------------------------------------------------- 00 · welcome
    dict(qid="00.1", answer=5.0, tol=0.01,
         prompt="Two encodings are f(x⁽¹⁾) = (2, −1, 4) and f(x⁽²⁾) = (−1, 3, 4). "
                "What is their distance d(x⁽¹⁾, x⁽²⁾) = ‖f(x⁽¹⁾) − f(x⁽²⁾)‖₂?",
         hint="Subtract component by component, square, add, then take the square root.",
         explain="The difference is (3, −4, 0), so d = √(9 + 16 + 0) = 5."),
    dict(qid="00.2", answer=2.0, tol=0.01,
         prompt="FaceNet's encodings have unit length, ‖f(x)‖₂ = 1. "
                "What is the largest distance two such encodings can be apart?",
         hint="Picture two points on a circle of radius 1: how far apart can they be?",
         explain="Opposite points, f(x⁽²⁾) = −f(x⁽¹⁾), are a diameter apart: 2; equal encodings are 0 apart."),
    dict(qid="00.3", answer="c",
         prompt="A check cell prints \"not attempted yet\". What does it mean?",
         options=("Your function returns a wrong value.",
                  "The check itself could not run on this machine.",
                  "Your cell still runs `raise NotImplementedError` (or you have not run it since you changed it).",
                  "You ran the solution instead of writing your own code."),
         hint="A wrong value is reported with ✗ and \"expected … got …\"; this message is about something else.",
         explain="The stub still raises NotImplementedError: write your code under # YOUR CODE HERE, run that "
                 "cell, then the check."),
    dict(qid="00.4", answer="b",
         prompt="Why does Run All never replace your attempt with the collapsed solution?",
         options=("The solution stays hidden until the check passes.",
                  "The solution is a Markdown (text) cell, so it is never executed.",
                  "Run All skips every cell that comes after a check.",
                  "The solution cell is deleted when the notebook opens."),
         hint="Look at what kind of cell holds the collapsed solution.",
         explain="A Markdown cell is text: Run All renders it and runs nothing, so your function stays yours."),

    # ---------------------------------------------------------------- 01 · verification vs recognition
    dict(qid="01.1", answer="c",
         prompt="An office door has no badge reader: it must say which of its 20 employees is in front of it, "
                "or that it is nobody it knows. Which problem is this?",
         options=("Verification (1 : 1): is this the person they claim to be?",
                  "Binary classification of the photo alone: face or no face?",
                  "Recognition (1 : K): who is this, if anyone, among K people?",
                  "Training a network with one photo per person."),
         hint="Does the visitor claim an identity that the door could check against one enrolled photo?",
         explain="Nobody claims an identity, so the door compares with all K = 20 people and may answer "
                 "\"not recognised\": recognition."),
    dict(qid="01.2", answer="a",
         prompt="With the same encoder, distance and threshold τ, why does recognition go wrong more often "
                "than verification?",
         options=("A stranger is compared with all K enrolled people: K chances to be accepted by mistake.",
                  "Recognition must use squared distances, which grow faster than plain ones.",
                  "Recognition photos are taken from further away, so the faces are smaller.",
                  "Verification needs no threshold: it only ranks the enrolled people."),
         hint="Think of a stranger who is not in the database, and of everything the system does with "
              "their photo.",
         explain="One query means K comparisons, each with its own chance of a false accept: the errors add up "
                 "with K."),
    dict(qid="01.3", answer=1 - 0.99 ** 50, tol=0.005,
         prompt="A verifier wrongly accepts an impostor pair with probability FAR = 0.01. A stranger is compared, "
                "independently, with K = 50 enrolled people. What is the probability that at least one "
                "comparison accepts them?",
         hint="First find the probability that all 50 comparisons reject the stranger.",
         explain="1 − (1 − 0.01)⁵⁰ ≈ 0.395: about two strangers in five get in (not 50 × 1 %, nor 1 %)."),
    dict(qid="01.4", answer=1 - 0.99 ** (1 / 100), tol=1e-5,
         prompt="With K = 100 enrolled people and independent comparisons, what false accept rate FAR per "
                "comparison keeps the probability of letting a stranger in at 0.01 (1 %)?",
         hint="Solve 1 − (1 − FAR)¹⁰⁰ = 0.01 for FAR.",
         explain="FAR = 1 − 0.99^(1/100) ≈ 0.0001: a 99.99 % verifier, 100 times fewer false accepts than 99 %."),
    dict(qid="01.5", answer="d",
         prompt="What does the formula P(false alarm) = 1 − (1 − FAR)^K assume about the K comparisons "
                "of one query?",
         options=("That all K enrolled people look alike.",
                  "That FAR grows with K.",
                  "That the query is one of the K enrolled people.",
                  "That they are independent — although in reality all K share the same query photo."),
         hint="Where does a product of K equal probabilities come from?",
         explain="Multiplying K probabilities assumes independence; real comparisons share the query photo "
                 "(blur, pose), so 1 : K errors must be measured on real searches."),

    # ---------------------------------------------------------------- 02 · one-shot learning, Siamese networks
    dict(qid="02.1", answer="b",
         prompt="What does one-shot learning need to train the encoder f, and to enrol a new person?",
         options=("One photo of each person to train, and one photo to enrol.",
                  "At least two photos of each training person to train; one photo to enrol a new person.",
                  "One photo of each training person to train; several photos to enrol a new person.",
                  "A new training run of f with every new person's photo."),
         hint="With a single photo of each person, what would a same-person (y = 1) pair be made of?",
         explain="Training needs same-person pairs (≥ 2 photos of each training person); the one shot is the "
                 "enrolment of a new person, with no retraining."),
    dict(qid="02.2", answer="c",
         prompt="A new person moves into a house whose door recognises residents with a learned similarity "
                "d(x⁽¹⁾, x⁽²⁾). What must happen?",
         options=("Add an output unit to a softmax and retrain it.",
                  "Fine-tune the encoder on the new person's photo with the triplet loss.",
                  "Store the encoding of one photo of them in the database; nothing is retrained.",
                  "Collect ten photos of them and retrain the Siamese network."),
         hint="Which part of a similarity-based system depends on who the residents are?",
         explain="d compares any two faces, so a new person is one more stored encoding: the reason to learn d "
                 "rather than a softmax over people."),
    dict(qid="02.3", answer="d",
         prompt="In a Siamese network, how are the two branches that encode x⁽¹⁾ and x⁽²⁾ related?",
         options=("Same architecture, but each branch has its own weights, trained on its own photos.",
                  "One branch encodes the photo, the other decodes it back to pixels.",
                  "The second branch is a copy of the first, frozen at its initial random weights.",
                  "They are one encoder f — same layers, same weights — applied to each photo."),
         hint="If the branches differed, would d(x⁽¹⁾, x⁽²⁾) equal d(x⁽²⁾, x⁽¹⁾)?",
         explain="One f with shared weights maps both photos into the same space, so their distance means "
                 "something (and is symmetric)."),
    dict(qid="02.4", answer=0.36, tol=0.005,
         prompt="Contrastive loss L = y·d² + (1 − y)·max(m − d, 0)² with margin m = 1. A pair of different "
                "people (y = 0) is at distance d = 0.4. What is L?",
         hint="For y = 0 only the second term counts; mind the square.",
         explain="max(1 − 0.4, 0)² = 0.6² = 0.36: the pair is inside the margin, so the loss pushes it apart."),
    dict(qid="02.5", answer="b",
         prompt="What does the margin m do in the contrastive loss?",
         options=("It is the threshold τ used at test time.",
                  "Pairs of different people already farther apart than m add nothing, so they stop being pushed.",
                  "It scales the same-person term y·d².",
                  "It keeps every encoding at unit length."),
         hint="Look at the term max(m − d, 0)² when d is large.",
         explain="For d ≥ m that term is 0: different people need to be m apart, not infinitely far."),

    # ---------------------------------------------------------------- 03 · the triplet loss
    dict(qid="03.1", answer=1.5, tol=0.01,
         prompt="With squared distances and α = 0.5: f(A) = (0, 0), f(P) = (1, 1), f(N) = (1, 0). "
                "What is L(A, P, N)?",
         hint="Square the distances (no square root), then apply max(d(A, P) − d(A, N) + α, 0).",
         explain="d(A, P) = 2 and d(A, N) = 1, so L = max(2 − 1 + 0.5, 0) = 1.5: the negative is closer than "
                 "the positive, a hard triplet."),
    dict(qid="03.2", answer="d",
         prompt="Why do random triplets teach the network little once training has started?",
         options=("Random triplets often pair photos of two different people as anchor and positive: "
                  "wrong labels.",
                  "Their loss is negative, which pushes the encodings the wrong way.",
                  "Random negatives are usually too hard: the network cannot separate them and the loss diverges.",
                  "Most random negatives are already farther than the positive by more than α: L = 0, no gradient."),
         hint="What is the gradient of max(…, 0) when its first argument is negative?",
         explain="A random stranger is usually far from the anchor already (an easy triplet): L = 0 gives no "
                 "gradient, so mine hard or semi-hard triplets."),
    dict(qid="03.3", answer="b",
         prompt="Squared distances d(A, P) = 0.5 and d(A, N) = 0.6, margin α = 0.2. What kind of triplet "
                "is it?",
         options=("easy", "semi-hard", "hard"),
         hint="Compare d(A, N) with d(A, P), and with d(A, P) + α.",
         explain="0.5 < 0.6 < 0.7: farther than the positive but inside the margin, so 0 < L = 0.1 < α."),
    dict(qid="03.4", answer="a",
         prompt="Why does the triplet loss need a margin α > 0?",
         options=("Without it, f(x) = 0 for every photo satisfies d(A, P) − d(A, N) ≤ 0 and costs nothing.",
                  "It makes the distances squared.",
                  "It speeds training up by skipping hard triplets.",
                  "It is the door's threshold τ."),
         hint="Look for an encoder f that would make L = 0 for every triplet if α were 0.",
         explain="With α = 0 the trivial f = 0 (all encodings equal) is perfect; α demands a real gap between "
                 "positives and negatives."),
    dict(qid="03.5", answer="c",
         prompt="Batch-hard mining in a P×K batch picks, for each anchor,",
         options=("a random positive and a random negative;",
                  "its closest positive and its farthest negative;",
                  "its farthest positive and its closest negative;",
                  "every positive and every negative with L > 0."),
         hint="\"Hard\" means the triplet of that anchor that violates the margin the most.",
         explain="max over positives of d(a, p) − min over negatives of d(a, n) + α: the worst case in the batch "
                 "(every triplet with L > 0 is batch-all)."),

    # ---------------------------------------------------------------- 04 · binary verification
    dict(qid="04.1", answer=129, tol=0,
         prompt="The logistic head ŷ = σ(Σₖ wₖ |f(x⁽ⁱ⁾)ₖ − f(x⁽ʲ⁾)ₖ| + b) reads 128-number encodings. "
                "How many trainable parameters does the head have?",
         hint="One weight per compared component, plus what else?",
         explain="128 weights wₖ and one bias b: 129 — tiny next to the encoder."),
    dict(qid="04.2", answer=0.2, tol=0.001,
         prompt="The safe χ² term (a − b)² / (|a| + |b| + ε) with ε = 0, for components a = 0.6 and b = 0.2: "
                "what is its value?",
         hint="Compute the numerator and the denominator separately.",
         explain="0.4² / 0.8 = 0.2, half of |a − b| = 0.4: with components of one sign, χ² weighs a gap by "
                 "their size."),
    dict(qid="04.3", answer="d",
         prompt="Why does facelib replace the lecture's χ² denominator f(x⁽ⁱ⁾)ₖ + f(x⁽ʲ⁾)ₖ by "
                "|f(x⁽ⁱ⁾)ₖ| + |f(x⁽ʲ⁾)ₖ| + ε?",
         options=("To make the head train faster.",
                  "To turn the χ² term into a distance in pixels.",
                  "The lecture's formula only works with squared distances.",
                  "Our encodings have components of both signs: the plain sum can be 0 or negative."),
         hint="What signs can the components of a unit-length encoding have?",
         explain="The lecture's formula assumes non-negative encodings (after a ReLU); ours are signed, so a "
                 "plain sum can divide by 0 or flip a term's sign."),
    dict(qid="04.4", answer="d",
         prompt="Why are the residents' encodings computed once and stored?",
         options=("Stored encodings are more accurate than encodings computed at query time.",
                  "Storing them lets the door skip face detection on the visitor's photo.",
                  "The logistic head only works on encodings computed together in one batch.",
                  "Residents' photos don't change: a query then costs one encoder pass and K tiny head evaluations."),
         hint="Count the passes through the big encoder per query, with and without storing.",
         explain="Without storing, each query would run the whole Siamese network K times; with it, one encoder "
                 "pass plus K cheap head evaluations."),
    dict(qid="04.5", answer="a",
         prompt="Why compare two verification models by their ROC curves (or AUC) rather than by their "
                "accuracy at one threshold?",
         options=("The ROC curve shows every threshold at once, so no model is judged at a τ chosen for "
                  "another.",
                  "ROC curves are faster to compute.",
                  "Accuracy cannot be computed for a logistic model.",
                  "The AUC is always higher than the accuracy."),
         hint="What must you choose before you can count an accuracy?",
         explain="Accuracy needs a threshold; the ROC sweeps all of them (true accepts against false accepts)."),

    # ---------------------------------------------------------------- 05 · face recognition with FaceNet
    dict(qid="05.1", answer="a",
         prompt="Why must a photo be detected and aligned before FaceNet encodes it?",
         options=("FaceNet learned on faces framed one way (eyes, nose, mouth at fixed places); another "
                  "framing moves the encoding.",
                  "To make the photo smaller, so that encoding runs faster on a laptop CPU.",
                  "FaceNet only reads grey 64×64 images, so colour photos must be converted first.",
                  "Alignment removes the background, which is the only part of a photo that differs between people."),
         hint="Compare what FaceNet saw in training with a head-and-shoulders news photo.",
         explain="The encoder learned on aligned 160×160 crops: the same face framed differently is, to it, "
                 "another input with another encoding."),
    dict(qid="05.2", answer="b",
         prompt="A visitor's encoding is at distance 0.82 from Ana, 0.55 from Ben and 0.61 from Cem, the only "
                "residents; τ = 0.7. What does `who_is_it` answer?",
         options=("Ana", "Ben", "Cem", "not in the database"),
         hint="Recognition keeps the nearest resident, then compares that one distance with τ.",
         explain="The nearest is Ben at 0.55, within τ = 0.7: Ben (Cem is within τ too, but farther)."),
    dict(qid="05.3", answer=1.0, tol=0.01,
         prompt="Two unit-length encodings have the dot product f(x⁽¹⁾)·f(x⁽²⁾) = 0.5 (cosine similarity). "
                "What is their Euclidean distance d?",
         hint="Expand ‖u − v‖² = ‖u‖² + ‖v‖² − 2 u·v.",
         explain="d² = 1 + 1 − 2 × 0.5 = 1, so d = 1: on the unit sphere a distance threshold is a cosine "
                 "threshold."),
    dict(qid="05.4", answer="c",
         prompt="On MTCNN-aligned news photos the course's τ = 0.7 turns many true residents away. "
                "What is the right fix?",
         options=("Keep τ = 0.7: it is a property of FaceNet.",
                  "Use τ = 1.0 with every encoder.",
                  "Choose τ on labelled pairs from your own pipeline and photos (calibrate it).",
                  "Retrain FaceNet until its distances fit τ = 0.7."),
         hint="Ask on which photos, and after which preprocessing, the number 0.7 was chosen.",
         explain="τ belongs to the whole pipeline (detector, crop, preprocessing, network): choose it on pairs "
                 "like yours, e.g. at the equal error rate."),
    dict(qid="05.5", answer="b",
         prompt="Of all pairs of 10 residents' photos about 91 % are impostor pairs. Why choose τ at the "
                "equal error rate rather than at the highest accuracy?",
         options=("The equal error rate gives the highest accuracy anyway.",
                  "The most accurate τ mostly answers \"different\", so it would turn residents away.",
                  "Accuracy cannot be computed on pairs.",
                  "The equal error rate needs no labelled pairs."),
         hint="What accuracy does a door get that answers \"different\" to every pair?",
         explain="Answering \"different\" to everything is already ~91 % accurate; at the EER false accepts and "
                 "false rejects are equally frequent, so residents still get in."),
]
