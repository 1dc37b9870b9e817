"""Passive liveness: the bundled MiniFASNet pair and the suri model reproduce
their reference outputs on the MiniFASNet sample images (same patches, same
probabilities), the two are fused and thresholded as configured, and a custom
ONNX model (BWS_PAD_MODEL) still plugs in.

The samples: F1 and F2 are attacks, T1 and T2 live captures. MiniFASNet judges
T2 an attack (a model error: `is_live` in its expected.json is the model's
decision, `repo_label` the truth); the suri model judges it live."""
import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from PIL import Image

from gateway.engine import EngineOptions, FaceEngine, PadOptions
from gateway.engine.images import decode_image
from gateway.engine.pad import (MINIFASNET, SURI_FILE, MiniFasNet, PadOptions as Options, SuriMiniFas, box_xywh,
                                calibrated, crop_corners, load_pad, minifasnet_patch, reference_box, resize_linear,
                                suri_patch)
from tests.conftest import face

SAMPLES = Path(__file__).parents[2] / "fixtures" / "minifasnet"
EXPECTED = json.loads((SAMPLES / "expected.json").read_text())["samples"]
SURI_EXPECTED = json.loads((SAMPLES.parent / "suri_minifas" / "expected.json").read_text())["samples"]


def sample(entry) -> np.ndarray:
    return decode_image((SAMPLES / entry["image"].rsplit("/", 1)[1]).read_bytes())[0]


@pytest.fixture(scope="module")
def minifasnet() -> MiniFasNet:
    return MiniFasNet()


@pytest.fixture(scope="module")
def pad_engine() -> FaceEngine:
    """MiniFASNet alone."""
    return FaceEngine(EngineOptions(pad=PadOptions(models=("minifasnet",))))


@pytest.mark.parametrize("entry", EXPECTED, ids=lambda e: e["image"].rsplit("/", 1)[1])
def test_same_patches_and_probabilities_as_the_original_project(minifasnet, entry):
    pixels = sample(entry)
    assert list(pixels.shape[:2]) == entry["decoded_hw"]
    probabilities = minifasnet.probabilities(pixels, entry["face_box_xywh"])
    for (name, scale), probs in zip(MINIFASNET, probabilities):
        expected = entry["models"][name]
        height, width = pixels.shape[:2]
        assert list(crop_corners(width, height, entry["face_box_xywh"], scale)) == expected["crop_ltrb_inclusive"]
        patch = minifasnet_patch(pixels, entry["face_box_xywh"], scale)
        assert hashlib.sha256(np.ascontiguousarray(patch).tobytes()).hexdigest() == expected["patch_sha256"]
        np.testing.assert_allclose(probs, expected["onnx_probs"], atol=1e-5)
    np.testing.assert_allclose(probabilities.sum(axis=0), entry["fused_probs_sum"], atol=1e-5)
    minifasnet_says_live = int(np.argmax(probabilities.sum(axis=0))) == 1
    assert minifasnet_says_live == entry["is_live"]  # the model's decision (wrong for T2, a live sample)
    assert probabilities.sum(axis=0)[1] / 2 == pytest.approx(entry["live_score"], abs=1e-5)


def test_a_yunet_box_becomes_the_reference_detectors_box():
    # image_T2.jpg: YuNet's box and the original project's RetinaFace box (expected.json) for the same face.
    x, y, w, h = reference_box((629, 640, 1008, 1150))
    x, y, w, h = box_xywh((x, y, w, h))
    assert abs(x - 590) <= 8 and abs(y - 701) <= 8 and abs(w - 448) <= 8 and abs(h - 448) <= 8


@pytest.mark.parametrize("entry", EXPECTED, ids=lambda e: e["image"].rsplit("/", 1)[1])
def test_the_engines_own_face_boxes_give_minifasnets_decisions(pad_engine, entry):
    data = (SAMPLES / entry["image"].rsplit("/", 1)[1]).read_bytes()
    analysis = pad_engine.analyze(data, want_texture=True)
    assert len(analysis.faces) == 1
    score = analysis.faces[0].texture_score
    assert (score >= 0.5) == entry["is_live"], (analysis.faces[0].box, score, entry["live_score"])


@pytest.fixture(scope="module")
def suri() -> SuriMiniFas:
    return SuriMiniFas()


@pytest.mark.parametrize("entry", SURI_EXPECTED, ids=lambda e: e["image"].rsplit("/", 1)[1])
def test_the_suri_model_reproduces_its_reference_outputs(suri, entry):
    """Same 128x128 patch (sha256) and probabilities (1e-5) as the reference, given the same box."""
    pixels = decode_image((SAMPLES / entry["image"].rsplit("/", 1)[1]).read_bytes())[0]
    assert list(pixels.shape[:2]) == entry["rgb_hw"]
    patch = suri_patch(pixels, tuple(entry["box_ltrb"]))
    assert patch.shape == (128, 128, 3)
    assert hashlib.sha256(np.ascontiguousarray(patch).tobytes()).hexdigest() == entry["patch_rgb_uint8_sha256"]
    np.testing.assert_allclose(suri.probabilities(pixels, tuple(entry["box_ltrb"])), entry["probs"], atol=1e-5)
    assert suri.score(pixels, tuple(entry["box_ltrb"])) == pytest.approx(entry["live_probability"], abs=1e-5)


def test_the_suri_crop_is_padded_by_reflection_and_resized_both_ways():
    ramp = np.tile(np.arange(100, dtype=np.uint8)[None, :, None], (100, 1, 3))
    # A box at the left edge: the 1.5x square reaches 30 px past it, filled by reflection (101: no repeat).
    patch = suri_patch(ramp, (10, 20, 70, 80))  # 60 px box, 90 px square from x = -5: enlarged to 128
    assert patch.shape == (128, 128, 3) and patch[:, 0].min() > 0  # x = -5 reflects to x = 5, never zeros
    assert suri_patch(ramp, (0, 0, 99, 99)).shape == (128, 128, 3)  # 148 px square: shrunk
    for odd in ((50, 50, 50, 50), (-300, 10, -250, 60), (-100, -100, 40, 40), (95, 95, 400, 400)):
        assert suri_patch(ramp, odd).shape == (128, 128, 3)  # degenerate or outside boxes: a patch, not a hang


def test_the_suri_file_is_the_one_in_the_notice():
    digest = hashlib.sha256(SURI_FILE.read_bytes()).hexdigest()
    assert digest in (SURI_FILE.parent / "NOTICE.md").read_text()


def test_fusion_and_threshold_decide_live_at_half():
    assert calibrated(0.5, 0.5) == 0.5 and calibrated(0.0, 0.7) == 0.0 and calibrated(1.0, 0.7) == 1.0
    assert calibrated(0.7, 0.7) == 0.5 and calibrated(0.69, 0.7) < 0.5 and calibrated(0.3, 0.2) > 0.5
    with pytest.raises(ValueError, match="not among"):
        Options(models=("minifasnet", "other"))
    with pytest.raises(ValueError, match="not among"):
        Options(fusion="vote")
    with pytest.raises(ValueError, match="strictly between"):
        Options(threshold=1.0)


@pytest.mark.parametrize("entry", SURI_EXPECTED, ids=lambda e: e["image"].rsplit("/", 1)[1])
def test_the_fused_score_combines_both_models(suri, minifasnet, entry):
    """The shipped default, checked against each model run on its own, on the engine's box."""
    pixels = decode_image((SAMPLES / entry["image"].rsplit("/", 1)[1]).read_bytes())[0]
    box = tuple(entry["box_ltrb"])
    options = Options()
    each = [minifasnet.score(pixels, box), suri.score(pixels, box)]
    fused = {"mean": np.mean(each), "min": np.min(each), "geometric": np.sqrt(each[0] * each[1])}[options.fusion]
    assert load_pad(options).score(pixels, box) == pytest.approx(calibrated(fused, options.threshold), abs=1e-6)
    only_suri = load_pad(Options(models=("suri",), threshold=0.5)).score(pixels, box)
    assert only_suri == pytest.approx(entry["live_probability"], abs=1e-5)


def test_resize_is_opencv_inter_linear_on_a_known_case():
    # Up- and down-scaling of a ramp: OpenCV's results computed by hand from its fixed-point rules.
    ramp = np.arange(4, dtype=np.uint8).reshape(1, 4, 1).repeat(3, axis=2) * 80
    assert resize_linear(ramp, 2, 1)[0, :, 0].tolist() == [40, 200]
    assert resize_linear(ramp, 8, 1)[0, :, 0].tolist() == [0, 20, 60, 100, 140, 180, 220, 240]


def test_crop_is_shifted_inside_never_padded():
    # A box at the image corner: the 2.7x crop moves inside, keeps its size and aspect.
    assert crop_corners(640, 480, (0, 0, 100, 50), 2.7) == (0, 0, 270, 135)
    # A box too large for the scale: the scale is capped by the image.
    assert crop_corners(640, 480, (100, 100, 300, 300), 4.0) == (10, 0, 489, 479)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["input"], ["mean"], keepdims=1),
         helper.make_node("Reshape", ["mean", "shape"], ["flat"]),
         helper.make_node("Sigmoid", ["flat"], ["score"])],
        "pad", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, [1, 1])],
        [helper.make_tensor("shape", TensorProto.INT64, [2], [1, 1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path = tmp_path_factory.mktemp("pad") / "pad.onnx"
    onnx.save(model, path)
    return str(path)


def test_a_custom_model_replaces_the_pair(model_path):
    """BWS_PAD_MODEL: a real onnxruntime session on a model the test builds (the
    sigmoid of the mean of the normalised crop), so the score can be computed independently."""
    options = PadOptions(model_path, input_size=64, mean=(0.4, 0.4, 0.4), std=(0.2, 0.2, 0.2), crop_scale=1.5)
    engine = FaceEngine(EngineOptions(pad=options))
    analysis = engine.analyze(face("biden_1.jpg"), want_texture=True)
    left, top, right, bottom = analysis.faces[0].box
    pixels, _ = decode_image(face("biden_1.jpg"))
    cx, cy, half = (left + right) / 2, (top + bottom) / 2, max(right - left, bottom - top) * 0.75
    crop = Image.fromarray(pixels).crop((int(cx - half), int(cy - half), int(cx + half), int(cy + half)))
    normalised = (np.asarray(crop.resize((64, 64), Image.Resampling.BILINEAR), np.float32) / 255 - 0.4) / 0.2
    expected = 1 / (1 + np.exp(-normalised.mean()))
    assert analysis.faces[0].texture_score == pytest.approx(expected, abs=1e-4)
    assert engine.analyze(face("biden_1.jpg")).faces[0].texture_score == 0.0  # only when asked


def test_the_models_ship_in_the_wheel(tmp_path):
    """A non-editable install (and so the container image) has the model pair, its licence and notice."""
    import shutil
    import subprocess
    import sys
    import zipfile

    root = Path(__file__).parents[3]
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(root / name, tmp_path / name)
    for package in ("gateway", "templates_store", "bws_proto", "bws_cli"):
        shutil.copytree(root / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path / "dist"), str(tmp_path)], check=True, capture_output=True)
    names = zipfile.ZipFile(next((tmp_path / "dist").glob("*.whl"))).namelist()
    shipped = {n.rsplit("/", 1)[1] for n in names if n.startswith("gateway/engine/pad_models/minifasnet/")}
    assert shipped == {name for name, _ in MINIFASNET} | {"LICENSE-Apache-2.0.txt", "NOTICE.md"}
    shipped = {n.rsplit("/", 1)[1] for n in names if n.startswith("gateway/engine/pad_models/suri_minifas/")}
    assert shipped == {SURI_FILE.name, "LICENSE-Apache-2.0.txt", "NOTICE.md"}
