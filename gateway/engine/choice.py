"""Which found face is the subject, which are bystanders, and when an image is
ambiguous (BWS refuses images that show several faces: MultipleFacesFound).

The primary face is the most central one not cut by the image border (the
most central of all when every face is cut) among those at least half as
wide as the largest face not cut. Another face is a bystander,
ignored and reported, when it is cut by the border, or less than half the
primary's width, or both clearly farther from the centre and smaller. Any
other face makes the image ambiguous: with `refuse` (the default, BWS's
rule) no face of it is used; with `primary` the primary face is. Measured on
the calibration photos (docs/engine.md, "Several faces on a photo").
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from gateway.engine.detector import Detection

MODES = ("refuse", "primary")
CUT_MARGIN = 0.05  # of the face's width: a box this far past the border is cut
SMALL = 0.5  # of the primary's width: smaller faces are bystanders
FARTHER = 0.2  # of the image's longer side: this much farther from the centre than the primary ...
SMALLER_WHEN_FARTHER = 0.9  # ... and smaller than this fraction of its width: a bystander
# The faces of an ambiguous image analysed and reported (the most central ones): a picture of hundreds of faces
# (a crowd, a sheet of passport photos) would otherwise hold a worker for each one's landmarks and passive
# liveness (400 faces of a 40 MP picture: 21 s), and one face beyond the first already decides the answer.
MAX_COUNTED = 8


@dataclass(frozen=True)
class Choice:
    counted: list[Detection]  # the faces the image is judged on, left to right: one, or several (ambiguous)
    bystanders: int  # faces ignored
    ambiguous: int  # faces like the primary one that were ignored by the `primary` mode
    uncounted: int = 0  # faces of an ambiguous image beyond the MAX_COUNTED most central ones, not analysed

    @property
    def primary(self) -> Detection | None:
        return self.counted[0] if len(self.counted) == 1 else None


def choose(found: list[Detection], width: int, height: int, mode: str = "refuse") -> Choice:
    if len(found) <= 1:
        return Choice(list(found), 0, 0)
    # A face less than half as wide as the largest one not cut by the border cannot be the subject (it would be
    # a bystander of it): a small face in the middle (a poster, a badge, a photo held up) was taken as the
    # primary over the person beside it, who then made the image ambiguous, or was ignored with `primary`.
    whole = [d for d in found if not cut(d, width, height)] or found
    least = SMALL * max(_width(d) for d in whole)
    primary = min((d for d in found if _width(d) >= least),
                  key=lambda d: (cut(d, width, height), off_centre(d, width, height)))
    others = [d for d in found if d is not primary]
    similar = [d for d in others if not bystander(d, primary, width, height)]
    bystanders = len(others) - len(similar)
    if not similar:
        return Choice([primary], bystanders, 0)
    if mode == "primary":
        return Choice([primary], bystanders, len(similar))
    similar.sort(key=lambda d: off_centre(d, width, height))
    counted = [primary, *similar[:MAX_COUNTED - 1]]
    return Choice(sorted(counted, key=lambda d: (d.box[0], d.box[1])), bystanders, 0, 1 + len(similar) - len(counted))


def bystander(face: Detection, primary: Detection, width: int, height: int) -> bool:
    size, main = _width(face), _width(primary)
    if cut(face, width, height) or size < SMALL * main:
        return True
    farther = off_centre(face, width, height) - off_centre(primary, width, height)
    return farther >= FARTHER * max(width, height) and size < SMALLER_WHEN_FARTHER * main


def cut(face: Detection, width: int, height: int) -> bool:
    margin = CUT_MARGIN * _width(face)
    left, top, right, bottom = face.box
    return left < -margin or top < -margin or right > width + margin or bottom > height + margin


def _width(face: Detection) -> int:
    return face.box[2] - face.box[0]


def off_centre(face: Detection, width: int, height: int) -> float:
    left, top, right, bottom = face.box
    return math.hypot((left + right) / 2 - width / 2, (top + bottom) / 2 - height / 2)
