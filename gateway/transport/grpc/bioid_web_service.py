"""The BioIDWebService servicer: liveness, video liveness, PhotoVerify."""
from __future__ import annotations

from bws_proto import bioidwebservice_pb2 as bws
from bws_proto import bioidwebservice_pb2_grpc as bws_grpc
from bws_proto import bwsmessages_pb2 as msg
from gateway.core.analysis import check_image_count
from gateway.core.liveness import LiveImage, Liveness, LivenessOutcome
from gateway.settings import Settings
from gateway.transport.grpc import convert


def _liveness_response(outcome: LivenessOutcome) -> bws.LivenessDetectionResponse:
    frames = outcome.frame_numbers or [0] * len(outcome.analyses)
    return bws.LivenessDetectionResponse(
        status=msg.SUCCEEDED, errors=convert.job_errors(outcome.errors),
        image_properties=[convert.image_properties(a, n, m) for a, n, m in
                          zip(outcome.analyses, frames, outcome.motions)],
        live=outcome.live, liveness_score=outcome.score)


def _live_images(images, settings: Settings) -> list[LiveImage]:
    check_image_count(len(images), settings)  # before they are copied out one by one
    return [LiveImage(i.image, tuple(convert.tags(i.tags))) for i in images]


class BioIDWebServiceServicer(bws_grpc.BioIDWebServiceServicer):
    def __init__(self, liveness: Liveness) -> None:
        self.liveness = liveness

    async def LivenessDetection(self, request: bws.LivenessDetectionRequest, context):
        return _liveness_response(await self.liveness.detect(_live_images(request.live_images, self.liveness.settings)))

    async def VideoLivenessDetection(self, request: bws.VideoLivenessDetectionRequest, context):
        return _liveness_response(await self.liveness.detect_video(request.video))

    async def PhotoVerify(self, request: bws.PhotoVerifyRequest, context):
        live_images = _live_images(request.live_images, self.liveness.settings)
        outcome = await self.liveness.photo_verify(live_images, request.photo, request.disable_liveness_detection)
        live = _liveness_response(outcome.liveness)
        return bws.PhotoVerifyResponse(
            status=msg.SUCCEEDED, errors=convert.job_errors(outcome.errors), image_properties=live.image_properties,
            photo_properties=convert.image_properties(outcome.photo), verification_level=int(outcome.level),
            verification_score=outcome.score, live=live.live, liveness_score=live.liveness_score)
