"""The BioIDWebService servicer (liveness, video liveness, PhotoVerify).

Registered so that clients, reflection and REST see the whole contract; the
methods answer UNIMPLEMENTED until the liveness engine lands.
"""
from __future__ import annotations

from bws_proto import bioidwebservice_pb2_grpc as bws_grpc
from gateway.errors import Unimplemented


class BioIDWebServiceServicer(bws_grpc.BioIDWebServiceServicer):
    async def LivenessDetection(self, request, context):
        raise Unimplemented("LivenessDetection is not available in this version")

    async def VideoLivenessDetection(self, request, context):
        raise Unimplemented("VideoLivenessDetection is not available in this version")

    async def PhotoVerify(self, request, context):
        raise Unimplemented("PhotoVerify is not available in this version")
