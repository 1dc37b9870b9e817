"""The committed stubs in bws_proto/ must be what `make proto` generates now."""
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Written by hand, shared by the server and the bws CLI (so is bws_proto/transcoding/): not generated.
HAND_WRITTEN = {"api_token.py"}


def _generator():
    spec = importlib.util.spec_from_file_location("generate_protos", ROOT / "protos" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_committed_stubs_match_the_protos(tmp_path):
    fresh = _generator().generate(tmp_path / "bws_proto")
    committed_dir = ROOT / "bws_proto"
    assert sorted(p.name for p in fresh) == sorted(
        p.name for p in committed_dir.glob("*.py*") if p.name not in HAND_WRITTEN), \
        "bws_proto/ has other files than protos/ generates: run `make proto`"
    stale = [p.name for p in fresh if p.read_bytes() != (committed_dir / p.name).read_bytes()]
    assert not stale, f"stale generated stubs {stale}: run `make proto` and commit"


def test_shared_messages_have_no_package_and_services_do():
    from bws_proto import bioidwebservice_pb2, bwsmessages_pb2, facerecognition_pb2

    assert bwsmessages_pb2.DESCRIPTOR.package == ""
    assert bwsmessages_pb2.ImageData.DESCRIPTOR.full_name == "ImageData"
    assert facerecognition_pb2.DESCRIPTOR.services_by_name["FaceRecognition"].full_name == \
        "bioid.services.v1.FaceRecognition"
    assert bioidwebservice_pb2.DESCRIPTOR.services_by_name["BioIDWebService"].full_name == \
        "bioid.services.v1.BioIDWebService"
    action = facerecognition_pb2.FaceEnrollmentResponse.EnrollmentAction
    assert action.Value("ENROLLMENT_FAILED") == -1 and action.Value("TEMPLATE_IMPORTED") == 4
    assert bwsmessages_pb2.Face.DESCRIPTOR.fields_by_name["movement_direction"].number == 13
