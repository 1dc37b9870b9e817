"""Domain results to protobuf messages."""
from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from bws_proto import bwsmessages_pb2 as msg
from bws_proto import facerecognition_pb2 as fr
from gateway.engine import ImageAnalysis
from gateway.engine.motion import Motion
from gateway.core.analysis import check_image_count
from gateway.core.errors import InvalidArgument
from gateway.core.job_errors import JobError
from gateway.settings import Settings
from templates_store import TemplateStatus

# Of a repeated tags field: far more than any call uses (a template keeps at most 64), far fewer than the 32 million
# empty strings a 64 MB message can hold.
MAX_TAGS_PER_FIELD = 1024


def tags(field) -> list[str]:
    """A message's tags, counted before they are copied out one by one."""
    if len(field) > MAX_TAGS_PER_FIELD:
        raise InvalidArgument(f"at most {MAX_TAGS_PER_FIELD} tags per field, got {len(field)}")
    return list(field)


def image_bytes(images, settings: Settings) -> list[bytes]:
    """The bytes of a message's images, counted before they are copied out one by one: 64 MB of empty images are
    32 million of them, a Python step each, in the event loop."""
    check_image_count(len(images), settings)
    return [i.image for i in images]


def timestamp(seconds: float | None) -> Timestamp:
    stamp = Timestamp()
    if seconds is not None:
        stamp.FromNanoseconds(int(seconds * 1e9))
    return stamp


def image_properties(analysis: ImageAnalysis, frame_number: int = 0, motion: Motion | None = None
                     ) -> msg.ImageProperties:
    return msg.ImageProperties(
        rotated=analysis.rotated,
        faces=[msg.Face(left_eye=msg.PointD(x=f.left_eye.x, y=f.left_eye.y),
                        right_eye=msg.PointD(x=f.right_eye.x, y=f.right_eye.y),
                        texture_liveness_score=f.texture_score,
                        motion_liveness_score=motion.score if motion else 0.0,
                        movement_direction=motion.direction if motion else 0.0) for f in analysis.faces],
        quality_score=analysis.quality_score,
        quality_assessments=[msg.QualityAssessment(check=c.check, score=c.score, message=c.message)
                             for c in analysis.all_checks],
        frame_number=frame_number,
    )


def job_errors(errors: list[JobError]) -> list[msg.JobError]:
    return [msg.JobError(error_code=e.error_code, message=e.message) for e in errors]


def template_status(status: TemplateStatus) -> fr.FaceTemplateStatus:
    return fr.FaceTemplateStatus(
        classId=status.class_id, available=status.available,
        enrolled=timestamp(status.enrolled) if status.available else None,
        tags=list(status.tags), encoder_version=status.encoder_version,
        feature_vectors=status.feature_vectors, thumbnails_stored=status.thumbnails_stored,
        thumbnails=[fr.FaceTemplateStatus.Thumbnail(enrolled=timestamp(t.enrolled), image=t.png)
                    for t in status.thumbnails],
    )
