"""Faces: one-shot learning, Siamese networks, the triplet loss, verification and recognition (lessons 01–05, 10).

- :mod:`~facelib.faces.detect`: face detection (MTCNN) and alignment onto a template, one photo or a batch (05);
- :mod:`~facelib.faces.evaluation`: the similarity function at work: the acceptance rule ``accepts(d, τ)``
  (``d ≤ τ`` means "same"), distances, ROC/AUC, the best τ, one-shot accuracy, batched encoding (01–05);
- :mod:`~facelib.faces.losses`: the triplet loss, online mining, the contrastive loss (03);
- :mod:`~facelib.faces.siamese`: Siamese networks; verification as binary classification (02, 04);
- :mod:`~facelib.faces.verification`: the course's ``img_to_encoding``, ``verify``, ``who_is_it`` (05);
- :mod:`~facelib.faces.database`: :class:`FaceDatabase`, the same for real use (enrol, identify,
  calibrate, files); its file format and the rules for what may be enrolled in
  :mod:`~facelib.faces.database_file` (05, the CLI, the live door); τ for a target false-open rate
  from the enrolled photos alone in :mod:`~facelib.faces.calibration` (05, 10);
- :mod:`~facelib.faces.encoders`: the state-of-the-art encoders behind one API,
  ``faces.encoders.load("facenet" | "dlib" | "facenet+dlib")``, each with its own pipeline and τ;
  what they keep between runs in :mod:`~facelib.faces.encoder_cache` (05, ``bench/lfw.py``), each entry
  sealed with a key of the user's own by :mod:`~facelib.faces.cache_seal`;
- :mod:`~facelib.faces.explain`: why did it match? occlusion sensitivity of ``d(A, B)``, saliency and
  Grad-CAM (05, going further).

``from facelib import faces`` then ``faces.verify(...)``, ``faces.who_is_it(...)``,
``faces.img_to_encoding(...)``, ``faces.FaceDatabase(...)``, ``faces.triplet_loss(...)``,
``faces.encoders.load("facenet")``.
"""

from __future__ import annotations

from facelib.faces import cache_seal, encoder_cache, encoders
from facelib.faces.calibration import (
    EnrolmentCalibration,
    calibrate_from_enrolment,
    genuine_scores,
    impostor_scores,
    threshold_for_far,
)
from facelib.faces.database import FaceDatabase
from facelib.faces.database_file import (
    ENCODER_WIDTHS,
    ENCODING_WIDTHS,
    SAME_FACE_DISTANCE,
    THRESHOLD_RANGE,
    FaceDatabaseWarning,
    check_threshold,
)
from facelib.faces.detect import (
    CENTRE_FRACTION,
    DETECT_CHUNK,
    DETECT_MAX_PIXELS,
    FALLBACK_CONFIDENCE,
    KEYPOINT_NAMES,
    TEMPLATE_5,
    Face,
    NoFaceFoundError,
    align,
    centre_keypoints,
    crop_box,
    detect_and_align,
    detect_face,
    detect_faces,
    detect_faces_batch,
    main_face,
    main_faces,
    warp_to_template,
)
from facelib.faces.evaluation import (
    accepts,
    all_pairs,
    auc,
    best_threshold,
    encode,
    equal_error_rate,
    one_shot_accuracy,
    pair_distances,
    pairwise_distances,
    roc_curve,
    tau_for_false_open,
    traced_network,
    verification_accuracy,
)
from facelib.faces.explain import (
    OcclusionMap,
    encoder_network,
    occlusion_deltas,
    occlusion_map,
    saliency_maps,
    show_occlusion,
)
from facelib.faces.losses import (
    TripletMiningLoss,
    batch_all_triplet_loss,
    batch_hard_triplet_loss,
    batch_semi_hard_triplet_loss,
    contrastive_loss,
    triplet_loss,
)
from facelib.faces.siamese import (
    PairFeatures,
    SiameseNetwork,
    binary_verification_model,
    verification_head,
    verification_scores,
)
from facelib.faces.verification import (
    ENCODE_BATCH,
    course_image,
    default_model,
    encode_faces,
    face_crop,
    img_to_encoding,
    nearest_person,
    person_distances,
    require_people,
    verify,
    who_is_it,
)
from facelib.models.facenet_input import COURSE_THRESHOLD, DEFAULT_THRESHOLDS, PREPROCESSING

__all__ = [
    "COURSE_THRESHOLD", "DEFAULT_THRESHOLDS", "PREPROCESSING", "CENTRE_FRACTION", "DETECT_MAX_PIXELS",
    "DETECT_CHUNK", "ENCODE_BATCH", "ENCODER_WIDTHS",
    "ENCODING_WIDTHS", "FALLBACK_CONFIDENCE", "KEYPOINT_NAMES", "SAME_FACE_DISTANCE", "TEMPLATE_5",
    "THRESHOLD_RANGE", "accepts", "align", "all_pairs", "auc", "batch_all_triplet_loss", "batch_hard_triplet_loss",
    "batch_semi_hard_triplet_loss", "best_threshold", "binary_verification_model", "centre_keypoints",
    "check_threshold", "contrastive_loss", "course_image", "crop_box", "default_model", "detect_and_align",
    "detect_face", "detect_faces", "detect_faces_batch", "encode", "encode_faces", "cache_seal", "encoder_cache",
    "encoders",
    "equal_error_rate", "face_crop", "img_to_encoding", "main_face", "main_faces", "nearest_person",
    "one_shot_accuracy", "pair_distances", "pairwise_distances", "person_distances", "require_people", "roc_curve",
    "tau_for_false_open", "traced_network", "triplet_loss", "verification_accuracy", "verification_head",
    "verification_scores", "verify",
    "warp_to_template", "who_is_it", "Face", "FaceDatabase", "FaceDatabaseWarning", "NoFaceFoundError",
    "PairFeatures", "SiameseNetwork", "TripletMiningLoss", "EnrolmentCalibration", "calibrate_from_enrolment",
    "genuine_scores", "impostor_scores", "threshold_for_far", "OcclusionMap", "encoder_network", "occlusion_deltas",
    "occlusion_map", "saliency_maps", "show_occlusion",
]
