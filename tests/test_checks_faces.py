"""facelib.checks.faces (lesson 01) and the re-exports of the face lessons' checks."""

from __future__ import annotations

import pytest
from check_cases import stub

from facelib.checks import CheckFailed, faces


def test_false_alarm_probability(capsys):
    assert faces.check_false_alarm_probability(lambda far, k: 1 - (1 - far) ** k)
    with pytest.raises(CheckFailed):
        faces.check_false_alarm_probability(lambda far, k: far * k)  # the union bound is not it
    with pytest.raises(CheckFailed):
        faces.check_false_alarm_probability(lambda far, k: (1 - far) ** k)  # P(no false accept)
    capsys.readouterr()
    assert not faces.check_false_alarm_probability(stub)
    assert "not attempted yet" in capsys.readouterr().out


def test_checks_reachable_from_package():
    import facelib.checks
    from facelib.checks import binary, siamese, triplets

    assert facelib.checks.check_triplet_loss is faces.check_triplet_loss is triplets.check_triplet_loss
    assert facelib.checks.check_batch_hard_triplet_loss is triplets.check_batch_hard_triplet_loss
    assert facelib.checks.check_triplet_kind is triplets.check_triplet_kind
    assert facelib.checks.check_contrastive_loss is siamese.check_contrastive_loss
    assert facelib.checks.check_same_person is faces.check_same_person
    assert facelib.checks.check_verification_head is binary.check_verification_head
    assert facelib.checks.check_chi2_features is faces.check_chi2_features
