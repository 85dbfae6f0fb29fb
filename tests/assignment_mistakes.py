"""One typical wrong answer per exercise, for the simulated submissions of ``tests/test_assignments.py``.

Each entry edits the lesson's own solution (so no second copy of a solution is kept): a list of
``(right text, wrong text)`` replacements applied to the exercise's solution cell, each right text
found there. The mistakes are those the checks' unit tests (``tests/test_checks_*.py``) reject: sum
for mean, a missing normalisation, a swapped sign or argument, the forgotten threshold...
An exercise without an entry (one added to a lesson later) gets :data:`FALLBACK`: the solution
region replaced by ``return None`` (the forgotten ``return``), and the test says so.
"""

from __future__ import annotations

FALLBACK = "return None"

MISTAKES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "distance": ("squared distance (no square root)", [("np.sqrt(np.sum(", "(np.sum(")]),
    "false_alarm_probability": ("union bound K·far", [("return 1.0 - (1.0 - far) ** K", "return K * far")]),
    "same_person": ("threshold the wrong way", [("d <= tau", "d >= tau")]),
    "contrastive_loss": ("sum, not mean", [("return tf.reduce_mean(", "return tf.reduce_sum(")]),
    "triplet_loss": ("mean, not sum", [("tf.reduce_sum(tf.maximum(", "tf.reduce_mean(tf.maximum(")]),
    "triplet_kind": ("L = alpha called semi-hard", [("if d_an > d_ap:", "if d_an >= d_ap:")]),
    "batch_hard_triplet_loss": ("sum, not mean", [("tf.reduce_mean(tf.boolean_mask", "tf.reduce_sum(tf.boolean_mask")]),
    "chi2_features": ("no abs in the denominator", [("(np.abs(fa) + np.abs(fb) + eps)", "(fa + fb + eps)")]),
    "verification_head": ("no sigmoid", [("return tf.sigmoid(tf.reduce_sum(w * phi, axis=-1) + b)",
                                          "return tf.reduce_sum(w * phi, axis=-1) + b")]),
    "verify": ("door opens for far faces", [("bool(dist <= 0.7)", "bool(dist > 0.7)")]),
    "who_is_it": ("no threshold for strangers", [("if min_dist > 0.7:", "if min_dist > 100.0:")]),
    "receptive_field": ("jump not accumulated", [("jump *= s", "jump = s")]),
    "top9": ("smallest first", [("np.argsort(-response, axis=0)", "np.argsort(response, axis=0)")]),
    "compute_content_cost": ("missing normalisation", [("/ (4 * n_H * n_W * n_C)", "")]),
    "gram_matrix": ("A^T A instead of A A^T", [("tf.matmul(A, tf.transpose(A))", "tf.matmul(tf.transpose(A), A)")]),
    "compute_layer_style_cost": ("reshaped straight to (n_C, n_H n_W)", [
        ("S = tf.transpose(tf.reshape(a_S, [n_H * n_W, n_C]))", "S = tf.reshape(a_S, [n_C, n_H * n_W])"),
        ("G = tf.transpose(tf.reshape(a_G, [n_H * n_W, n_C]))", "G = tf.reshape(a_G, [n_C, n_H * n_W])")]),
    "compute_style_cost": ("lambda weights forgotten", [("J_style += weight * ", "J_style += ")]),
    "total_cost": ("alpha and beta swapped", [("alpha * J_content + beta * J_style",
                                               "beta * J_content + alpha * J_style")]),
    "train_step": ("gradient ascent", [("[(grad, generated_image)]", "[(-grad, generated_image)]")]),
    "conv1d_output_length": ("stride ignored", [("return (n - f) // stride + 1", "return n - f + 1")]),
    "conv1d_single": ("filter flipped", [("np.dot(x[i:i + f], w)", "np.dot(x[i:i + f], w[::-1])")]),
    "f1_score": ("arithmetic mean", [("2 * precision * recall / (precision + recall)", "(precision + recall) / 2")]),
    "conv3d_output_shape": ("stride ignored", [("(n - f) // stride + 1", "n - f + 1")]),
    "conv3d_param_count": ("biases forgotten", [("f * f * f * n_c * filters + filters", "f * f * f * n_c * filters")]),
    "conv3d_single": ("filter flipped", [("w[a, b, d]", "w[-1 - a, -1 - b, -1 - d]")]),
    "siamese_distance": ("distance over the batch axis", [("tf.norm(f1 - f2, axis=-1)", "tf.norm(f1 - f2, axis=0)")]),
    "img_to_encoding": ("no division by the length", [("return embedding / np.linalg.norm(embedding)",
                                                       "return embedding")]),
    "occlusion_deltas": ("the patch never reaches the last place", [
        ("range(0, face.shape[0] - patch + 1, stride)", "range(0, face.shape[0] - patch, stride)"),
        ("range(0, face.shape[1] - patch + 1, stride)", "range(0, face.shape[1] - patch, stride)")]),
    "painter_train_step": ("content taken from the painting itself", [("a_C = vgg(photo)", "a_C = vgg(G)")]),
    "door_vote": ("a tie opens the door", [("> window / 2", ">= window / 2")]),
    "tau_for_false_open": ("every stranger pair counted twice", [("range(i + 1, len(labels))", "range(len(labels))")]),
}
