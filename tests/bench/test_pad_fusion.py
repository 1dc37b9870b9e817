"""The bench's own logic for choosing the passive liveness fusion (bench/pad_fusion.py): the calibration photos'
alignment fill cropped away, and the refusals any fusion must make to keep the attacks MiniFASNet catches out."""
import numpy as np
from PIL import Image

from bench.pad_fusion import ATTACK, LIVE, MIN_CROP, alignment_fill, forced, inside_fill


def picture(size: int = 250, seed: int = 0) -> Image.Image:
    """A photo-like picture without near-black pixels (so only an alignment fill is dark)."""
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(40, 255, (size, size, 3), dtype=np.uint8))


def warped(angle: float, size: int = 250) -> np.ndarray:
    """The picture turned about its centre, the corners it no longer covers black, as LFW deep-funneled does."""
    return np.asarray(picture(size).rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=(0, 0, 0)))


def test_a_photo_without_fill_is_kept_whole():
    pixels = np.asarray(picture())
    assert not alignment_fill(pixels).any()
    assert inside_fill(pixels).shape == pixels.shape


def test_the_fill_of_a_turned_photo_is_cropped_away_about_the_centre():
    pixels = warped(12)
    fill = alignment_fill(pixels)
    assert fill[0, 0] and fill[-1, -1] and not fill[125, 125]
    crop = inside_fill(pixels)
    side = crop.shape[0]
    assert crop.shape == (side, side, 3) and MIN_CROP <= side < 250
    assert alignment_fill(crop).mean() <= 0.002
    offset = (250 - side) // 2
    assert np.array_equal(crop, pixels[offset:offset + side, offset:offset + side])


def test_a_photo_whose_clear_square_is_too_small_for_a_face_is_left_out():
    pixels = warped(45, size=160)
    assert inside_fill(pixels) is None


def row(kind: str, minifasnet: float, suri: float) -> dict:
    return {"group": "g", "kind": kind, "name": f"{kind} {minifasnet} {suri}", "box": [0, 0, 1, 1],
            "minifasnet": minifasnet, "suri": suri}


def test_a_live_face_no_higher_than_a_caught_attack_on_both_models_is_forced():
    caught = row(ATTACK, 0.3, 0.99)
    missed_by_minifasnet = row(ATTACK, 0.6, 1.0)  # accepted by MiniFASNet alone: nothing to keep
    below, above_on_suri, above_on_minifasnet = row(LIVE, 0.2, 0.98), row(LIVE, 0.1, 0.995), row(LIVE, 0.35, 0.9)
    unscored = {"group": "g", "kind": LIVE, "name": "no face", "faces": 0}
    rows = [caught, missed_by_minifasnet, below, above_on_suri, above_on_minifasnet, unscored]
    assert forced(rows) == [below]
    assert forced(rows, models=("minifasnet",)) == [below, above_on_suri]  # MiniFASNet alone: its own refusals
