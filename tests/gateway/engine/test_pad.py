"""Passive liveness plumbing: a real onnxruntime session on an ONNX model the
test builds (the sigmoid of the mean of the normalised crop), so the expected
score can be computed independently."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from PIL import Image

from gateway.engine import EngineOptions, FaceEngine, PadOptions
from gateway.engine.images import decode_image
from tests.conftest import face


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


def test_texture_score_comes_from_the_model_on_the_face_crop(model_path):
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
