"""The real engine (YuNet, SFace, dlib landmarks) on real photos."""
import io

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageFilter

from gateway.core import scoring
from tests.conftest import FACES, face

ENCODER_V1 = FACES.parent / "encoder_v1"


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def _checks(analysis):
    return {c.check: c for c in analysis.all_checks}


def test_single_face_gives_eyes_quality_and_a_unit_descriptor(engine):
    analysis = engine.analyze(face("obama_1.jpg"))
    assert analysis.face is not None
    descriptor = analysis.face.descriptor
    assert descriptor.shape == (128,) and abs(np.linalg.norm(descriptor) - 1) < 1e-5
    # Mirrored convention: the person's left eye is on the right of the picture.
    assert analysis.face.left_eye.x > analysis.face.right_eye.x
    checks = _checks(analysis)
    assert checks["FaceFound"].score == 1 and checks["SingleFaceOnImage"].score == 1
    assert checks["FaceFeaturesAvailable"].score == 1
    assert 0.5 < analysis.quality_score <= 1
    assert analysis.face.thumbnail_png.startswith(b"\x89PNG")


@pytest.mark.parametrize("a, b", [("obama_1.jpg", "obama_2.jpg"), ("obama_1.jpg", "obama_3.jpg"),
                                  ("biden_1.jpg", "biden_2.jpg"), ("kit_harington_1.jpg", "kit_harington_2.jpg"),
                                  ("rose_leslie_1.jpg", "rose_leslie_2.jpg"),
                                  ("alex_lacamoire_1.png", "alex_lacamoire_2.jpg")])
def test_same_person_scores_above_the_threshold(engine, a, b):
    s = scoring.score(engine.analyze(face(a)).face.descriptor, engine.analyze(face(b)).face.descriptor)
    assert s >= 0.5, (a, b, s)


@pytest.mark.parametrize("a, b", [("obama_1.jpg", "biden_1.jpg"), ("obama_1.jpg", "lin_manuel_miranda_1.png"),
                                  ("kit_harington_1.jpg", "rose_leslie_1.jpg"),
                                  ("alex_lacamoire_1.png", "lin_manuel_miranda_1.png")])
def test_different_people_score_below_the_threshold(engine, a, b):
    s = scoring.score(engine.analyze(face(a)).face.descriptor, engine.analyze(face(b)).face.descriptor)
    assert s < 0.5, (a, b, s)


@pytest.mark.parametrize("name, faces", [("group_two_faces.jpg", 2), ("group_three_faces.jpg", 3)])
def test_several_faces_are_found_but_not_described(engine, name, faces):
    analysis = engine.analyze(face(name))
    assert len(analysis.faces) == faces and analysis.face is None
    assert _checks(analysis)["SingleFaceOnImage"].score == 0
    assert all(f.descriptor is None for f in analysis.faces)


def test_no_face_is_reported(engine):
    analysis = engine.analyze(_jpeg(Image.new("RGB", (400, 300), (120, 160, 200))))
    assert analysis.faces == () and _checks(analysis)["FaceFound"].score == 0 and analysis.quality_score == 0


def test_face_cut_by_the_border_is_reported_but_usable(engine):
    analysis = engine.analyze(face("obama_partial.jpg"))
    assert analysis.face is not None and _checks(analysis)["FaceInsideImage"].score < 1


def _degraded(change) -> bytes:
    return _jpeg(change(Image.open(io.BytesIO(face("obama_1.jpg"))).convert("RGB")))


@pytest.mark.parametrize("degrade, check, reason", [
    (lambda im: ImageEnhance.Brightness(im).enhance(0.15), "Brightness", "too dark"),
    (lambda im: im.filter(ImageFilter.GaussianBlur(8)), "Sharpness", "too blurry"),
    (lambda im: im.resize((im.width // 8, im.height // 8)), "FaceSize", "too small"),
])
def test_poor_images_are_used_and_the_failed_check_is_reported(engine, degrade, check, reason):
    """Quality informs: a face the network can embed is embedded, and still recognised."""
    analysis = engine.analyze(_degraded(degrade))
    checks = _checks(analysis)
    assert not checks[check].passed and reason in checks[check].message and checks[check].score < 0.5
    assert analysis.face is not None and checks["FaceFeaturesAvailable"].passed
    assert scoring.score(analysis.face.descriptor, engine.analyze(face("obama_2.jpg")).face.descriptor) >= 0.5


@pytest.mark.parametrize("degrade, reason", [
    (lambda im: im.resize((im.width // 16, im.height // 16)), "too small to recognise"),
    (lambda im: ImageEnhance.Brightness(im).enhance(0.05), "too dark to recognise"),
])
def test_face_below_the_usable_minimum_is_refused_with_the_reason(engine, degrade, reason):
    analysis = engine.analyze(_degraded(degrade))
    assert len(analysis.faces) == 1 and analysis.face is None
    features = _checks(analysis)["FaceFeaturesAvailable"]
    assert features.score == 0 and reason in features.message


def test_head_turned_away_is_refused(engine):
    # Squeezing one half of the face horizontally moves the nose tip towards
    # an eye corner, as a turned head does.
    image = Image.open(io.BytesIO(face("obama_1.jpg"))).convert("RGB")
    box = engine.analyze(face("obama_1.jpg")).faces[0].box
    middle = (box[0] + box[2]) // 2
    left = image.crop((0, 0, middle, image.height)).resize((max(1, (middle - box[0]) // 5 + box[0]), image.height))
    turned = Image.new("RGB", (left.width + image.width - middle, image.height))
    turned.paste(left, (0, 0))
    turned.paste(image.crop((middle, 0, image.width, image.height)), (left.width, 0))
    checks = _checks(engine.analyze(_jpeg(turned)))
    assert checks["HeadPose"].score < _checks(engine.analyze(face("obama_1.jpg")))["HeadPose"].score


def test_stored_chip_gives_back_the_descriptor(engine):
    """The face is detected again on the stored chip (template upgrades), and
    its descriptor is that of the person, far closer than another person's."""
    analysis = engine.analyze(face("biden_1.jpg"))
    again = engine.describe_chip(analysis.face.thumbnail_png)
    assert float(np.dot(again, analysis.face.descriptor)) > 0.85
    other = engine.analyze(face("obama_1.jpg")).face.descriptor
    assert float(np.dot(again, other)) < 0.4


def test_version_1_chips_are_detected_again(engine):
    """Chips stored by the dlib engine (150x150, the face filling it) give the person's descriptor."""
    biden = engine.analyze(face("biden_2.jpg")).face.descriptor
    for name in ("biden_1_chip.png", "biden_2_chip.png"):
        vector = engine.describe_chip((ENCODER_V1 / name).read_bytes())
        assert vector is not None and scoring.score(vector, biden) >= 0.5


def test_a_chip_without_a_face_is_not_described(engine):
    buffer = io.BytesIO()
    Image.new("RGB", (150, 150), (120, 160, 200)).save(buffer, "PNG")
    assert engine.describe_chip(buffer.getvalue()) is None


def test_a_small_face_in_the_background_is_ignored_and_reported(engine):
    """A bystander far behind (under half the main face's width) does not make
    the photo a group photo; it is reported, and the main face is used."""
    main = Image.open(io.BytesIO(face("obama_1.jpg"))).convert("RGB")
    bystander = Image.open(io.BytesIO(face("biden_1.jpg"))).convert("RGB")
    bystander = bystander.resize((bystander.width // 4, bystander.height // 4))
    canvas = Image.new("RGB", (main.width + bystander.width, main.height), (128, 128, 128))
    canvas.paste(main, (0, 0))
    canvas.paste(bystander, (main.width, 0))
    analysis = engine.analyze(_jpeg(canvas))
    single = _checks(analysis)["SingleFaceOnImage"]
    assert len(analysis.faces) == 1 and analysis.face is not None
    assert single.passed and "bystander" in single.message and single.score < 1
    assert scoring.score(analysis.face.descriptor, engine.analyze(face("obama_2.jpg")).face.descriptor) >= 0.5
