"""The FaceRecognition servicer: protobuf in, domain call, protobuf out."""
from __future__ import annotations

from bws_proto import bwsmessages_pb2 as msg
from bws_proto import facerecognition_pb2 as fr
from bws_proto import facerecognition_pb2_grpc as fr_grpc
from gateway.core.recognition import FaceRecognition
from gateway.transport.grpc import convert
from gateway.transport.grpc.interceptors import client_of_call


class FaceRecognitionServicer(fr_grpc.FaceRecognitionServicer):
    def __init__(self, recognition: FaceRecognition) -> None:
        self.recognition = recognition

    async def Enroll(self, request: fr.FaceEnrollmentRequest, context) -> fr.FaceEnrollmentResponse:
        images = convert.image_bytes(request.images, self.recognition.settings)
        result = await self.recognition.enroll(client_of_call(), request.classId, images)
        return fr.FaceEnrollmentResponse(
            status=msg.SUCCEEDED, errors=convert.job_errors(result.errors),
            image_properties=[convert.image_properties(a) for a in result.analyses],
            performed_action=result.action.value, enrolled_images=result.enrolled_images,
            template_status=convert.template_status(result.status),
        )

    async def Verify(self, request: fr.FaceVerificationRequest, context) -> fr.FaceVerificationResponse:
        result = await self.recognition.verify(client_of_call(), request.classId, request.image.image)
        return fr.FaceVerificationResponse(
            status=msg.SUCCEEDED, errors=convert.job_errors(result.errors),
            image_properties=convert.image_properties(result.analysis), verified=result.verified, score=result.score,
        )

    async def Search(self, request: fr.FaceSearchRequest, context) -> fr.FaceSearchResponse:
        images = convert.image_bytes(request.images, self.recognition.settings)
        outcome = await self.recognition.search(client_of_call(), images, convert.tags(request.tags),
                                                request.top_matches)
        Result, Match = fr.FaceSearchResponse.SearchResult, fr.FaceSearchResponse.TemplateMatchResult
        return fr.FaceSearchResponse(
            status=msg.SUCCEEDED, errors=convert.job_errors(outcome.errors),
            image_properties=[convert.image_properties(a) for a in outcome.analyses],
            result=[Result(matches=[Match(classId=m.class_id, score=m.score) for m in matches])
                    for matches in outcome.results],
        )

    async def SetTemplateTags(self, request: fr.SetTemplateTagsRequest, context) -> fr.SetTemplateTagsResponse:
        await self.recognition.set_tags(client_of_call(), request.classId, convert.tags(request.tags))
        return fr.SetTemplateTagsResponse()

    async def GetTemplateStatus(self, request: fr.FaceTemplateStatusRequest, context) -> fr.FaceTemplateStatus:
        status = await self.recognition.template_status(client_of_call(), request.classId,
                                                        request.download_thumbnails)
        return convert.template_status(status)

    async def GetClassCount(self, request: fr.GetClassCountRequest, context) -> fr.GetClassCountResponse:
        count = await self.recognition.class_count(client_of_call(), convert.tags(request.tags))
        return fr.GetClassCountResponse(number_of_classes=count)

    async def DeleteTemplate(self, request: fr.DeleteTemplateRequest, context) -> fr.DeleteTemplateResponse:
        await self.recognition.delete(client_of_call(), request.classId)
        return fr.DeleteTemplateResponse()
