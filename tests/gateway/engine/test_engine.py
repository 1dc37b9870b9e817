"""The real dlib engine on real photos."""
import io

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageFilter

from gateway import scoring
from tests.conftest import face


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


@pytest.mark.parametrize("degrade, check, reason", [
    (lambda im: ImageEnhance.Brightness(im).enhance(0.15), "Brightness", "too dark"),
    (lambda im: im.filter(ImageFilter.GaussianBlur(8)), "Sharpness", "too blurry"),
    (lambda im: im.resize((im.width // 8, im.height // 8)), "FaceSize", "too small"),
])
def test_poor_images_are_refused_with_the_reason(engine, degrade, check, reason):
    analysis = engine.analyze(_jpeg(degrade(Image.open(io.BytesIO(face("obama_1.jpg"))).convert("RGB"))))
    assert len(analysis.faces) == 1 and analysis.face is None
    checks = _checks(analysis)
    assert not checks[check].passed and reason in checks[check].message
    assert checks["FaceFeaturesAvailable"].score == 0 and reason in checks["FaceFeaturesAvailable"].message


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
    analysis = engine.analyze(face("biden_1.jpg"))
    again = engine.describe_chip(analysis.face.thumbnail_png)
    assert float(np.dot(again, analysis.face.descriptor)) > 0.999
