"""Which found face is the subject: bystanders (cut by the border, small, far
off centre and smaller) are ignored; faces like the primary one make the image
ambiguous (refused, or the primary used with BWS_MULTIPLE_FACES=primary)."""
import io

import numpy as np
import pytest
from PIL import Image

from gateway.engine import EngineOptions, FaceEngine
from gateway.engine.choice import choose
from gateway.engine.detector import Detection
from tests.conftest import face
from tests.gateway.engine.test_engine import _checks, _jpeg

W, H = 1000, 800


def box(cx: float, cy: float, width: float) -> Detection:
    return Detection((round(cx - width / 2), round(cy - 0.65 * width), round(cx + width / 2),
                      round(cy + 0.65 * width)), np.zeros((5, 2), np.float32), 0.9)


def test_one_face_is_the_primary():
    main = box(500, 400, 200)
    assert choose([main], W, H).primary is main and choose([], W, H).counted == []


@pytest.mark.parametrize("other, why", [
    (box(980, 400, 190), "cut by the border"),
    (box(700, 400, 90), "less than half as wide"),
    (box(900, 150, 170), "farther from the centre and smaller"),
])
def test_bystanders_are_ignored(other, why):
    main = box(520, 400, 200)
    for found in ([main, other], [other, main]):
        choice = choose(found, W, H)
        assert choice.primary is main and choice.bystanders == 1, why


@pytest.mark.parametrize("other, why", [
    (box(800, 400, 190), "as large, beside it"),
    (box(880, 200, 195), "far off centre but as large"),
    (box(650, 420, 120), "smaller, but as central"),
])
def test_a_face_like_the_primary_makes_the_image_ambiguous(other, why):
    main = box(500, 400, 200)
    refused = choose([main, other], W, H)
    assert refused.primary is None and len(refused.counted) == 2, why
    used = choose([main, other], W, H, "primary")
    assert used.primary is main and used.ambiguous == 1


def test_the_primary_face_is_the_most_central_one_not_cut():
    cut = box(500, 30, 300)  # central, but its top is out of the picture
    main = box(300, 400, 150)
    assert choose([cut, main], W, H).primary is main


def test_group_photos_are_refused_or_give_their_central_face():
    refusing, primary = FaceEngine(), FaceEngine(EngineOptions(multiple_faces="primary"))
    group = face("group_two_faces.jpg")
    refused = refusing.analyze(group)
    assert len(refused.faces) == 2 and refused.face is None
    assert "MultipleFacesFound" in _checks(refused)["SingleFaceOnImage"].message
    used = primary.analyze(group)
    single = _checks(used)["SingleFaceOnImage"]
    assert used.face is not None and single.passed and "of similar size ignored" in single.message
    centre = used.width / 2
    assert min(abs((f.box[0] + f.box[2]) / 2 - centre) for f in refused.faces) == \
        abs((used.face.box[0] + used.face.box[2]) / 2 - centre)


def test_a_bystander_cut_by_the_border_is_ignored_on_a_real_photo():
    """A press photo: the subject in the middle, half of another person's face at the picture's edge."""
    main = Image.open(io.BytesIO(face("obama_1.jpg"))).convert("RGB")
    other = Image.open(io.BytesIO(face("biden_2.jpg"))).convert("RGB").resize((1000, 1000))
    canvas = Image.new("RGB", (main.width + 300, main.height), (90, 90, 90))
    canvas.paste(main, (150, 0))
    # Biden's face (372..658 px across once resized) cut at 60% of its width by the picture's right edge.
    canvas.paste(other.crop((200, 150, 544, 750)), (canvas.width - 344, 0))
    analysis = FaceEngine().analyze(_jpeg(canvas))
    assert analysis.face is not None
    assert "bystander" in _checks(analysis)["SingleFaceOnImage"].message


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="multiple_faces"):
        FaceEngine(EngineOptions(multiple_faces="largest"))
