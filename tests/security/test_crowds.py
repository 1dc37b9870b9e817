"""Attack (review of Engine 3): pictures of hundreds of faces, made to be expensive.

Every face found used to be analysed (dlib landmarks, and passive liveness with both models): a 4000x3000
picture of a crowd held a worker for 32 s (927 faces described, past the 30 s job limit), a 2000x1500 one for
10.5 s, where one face takes 50 ms. A picture whose faces are all small at the first pass had each detected
again in a window at full resolution: 400 faces of 180 px on a 40 MP picture, 402 detector runs, 45 s. And the
faces of all passes were merged pair by pair: 2,875 detections took 19 s, tens of thousands of small faces
found in the tiles would take minutes. Now an ambiguous image has its 8 most central faces analysed (the
answer says how many were found), small faces are detected again in at most 8 windows (most central first,
within the image's pixels, each run at 1,024 px at most), the merge is vectorised over at most 1,000
detections, and the tiles stop once they found that many faces. And a 40 MP ID photo whose face is small at
the first pass no longer makes 1.9 GB of copies and detector input at the worker (0.7 GB now)."""
from __future__ import annotations

import re

import numpy as np

from bws_proto import bwsmessages_pb2 as msg
from bws_proto import facerecognition_pb2 as fr
from gateway.engine import finding
from gateway.engine.choice import MAX_COUNTED
from gateway.engine.detector import YuNetDetector
from gateway.engine.images import decode_image
from tests.e2e.helpers import new_class_id
from tests.security.hostile_files import crowd


def test_a_crowd_is_refused_with_its_most_central_faces_described(a):
    picture, placed = crowd(3000, 2000, face_width=60, pitch=100)
    assert placed > 500
    result = a.Enroll(fr.FaceEnrollmentRequest(classId=new_class_id(), images=[msg.ImageData(image=picture)]))
    assert result.performed_action == fr.FaceEnrollmentResponse.ENROLLMENT_FAILED
    assert [e.error_code for e in result.errors] == ["MultipleFacesFound"]
    properties = result.image_properties[0]
    assert 1 < len(properties.faces) <= MAX_COUNTED
    single = [q for q in properties.quality_assessments if q.check == "SingleFaceOnImage"][0]
    found = int(re.match(r"(\d+) faces found \((\d+) most central described\)", single.message).group(1))
    assert found > 100, single.message  # the answer still says how many there are
    class_id = new_class_id()
    assert a.enroll(class_id, "obama_2.jpg").enrolled_images == 1
    verdict = a.verify(class_id, raw=picture)
    assert not verdict.verified and verdict.errors[0].message.endswith(f"{found} faces found, one is needed")


class CountingDetector(YuNetDetector):
    """The real detector, counting its runs and the pixels it ran on."""

    def __init__(self) -> None:
        super().__init__(min_confidence=finding.CANDIDATE)
        self.runs = 0
        self.pixels = 0
        self.largest_input = 0  # pixels of the largest array handed over
        self.largest_run = 0  # pixels of the largest array the network ran on

    def detect(self, rgb: np.ndarray, max_side: int):
        self.runs += 1
        scale = min(1.0, max_side / max(rgb.shape[:2]))
        run = round(rgb.shape[0] * scale) * round(rgb.shape[1] * scale)
        self.pixels += run
        self.largest_input = max(self.largest_input, rgb.shape[0] * rgb.shape[1])
        self.largest_run = max(self.largest_run, run)
        return super().detect(rgb, max_side)


def test_small_faces_of_a_crowd_are_detected_again_in_a_bounded_number_of_windows():
    # Faces of 100 px on 4000x3000: 16 px at the first pass (640 px), under the 20 px at which each is detected
    # again at full resolution in a window around it.
    pixels, _ = decode_image(crowd(4000, 3000, face_width=100, pitch=200)[0])
    detector = CountingDetector()
    found = finding.FaceFinder(detector).find(pixels)
    assert len(found.faces) > 100
    assert detector.runs <= 2 + finding.MAX_WINDOWS  # the first pass, the coarse one, the windows
    assert detector.pixels <= 2 * pixels.shape[0] * pixels.shape[1]


def test_a_swarm_of_faces_found_only_in_the_tiles_is_merged_within_bounds():
    # Faces of 20 px on 4100x3000: too small for the 2048 px pass, found by the full-resolution tiles.
    pixels, _ = decode_image(crowd(4100, 3000, face_width=20, pitch=30)[0])
    detector = CountingDetector()
    found = finding.FaceFinder(detector).find(pixels)
    tiles = len(list(finding.tiles(*pixels.shape[:2])))
    assert finding.MAX_CANDIDATES // 2 < len(found.faces) <= finding.MAX_CANDIDATES
    assert detector.runs < 3 + tiles  # the tiles stopped once they had found enough faces


def test_the_small_face_of_a_40_mp_id_photo_is_refined_without_huge_copies():
    # PhotoVerify's ID photo: a face under 64 px at the first pass is detected again at full resolution. A
    # 700 px face on 7700x5100 had a 4188 px window run at full size (1.9 GB at the worker, against 0.7 GB),
    # and the coarse pass framed the whole picture before scaling it to 320 px (a 103 MP copy).
    pixels, _ = decode_image(crowd(7700, 5100, face_width=700, pitch=9000)[0])
    detector = CountingDetector()
    found = finding.FaceFinder(detector).find(pixels, tiny=64)
    assert len(found.faces) == 1
    assert detector.largest_input <= pixels.shape[0] * pixels.shape[1]  # no copy larger than the picture
    assert detector.largest_run <= finding.TILE ** 2  # the window scaled to a tile's size
    assert detector.runs == 3  # the first pass, the coarse one, the window: the face was still refined
