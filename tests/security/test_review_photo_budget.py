"""Found in review: PhotoVerify's ID photo was outside the per-call pixel budget (only the live images were
counted), so a call could send the budget in live images and as much again as its ID photo. The ID photo now
counts with them, before anything is decoded."""
from __future__ import annotations

import grpc
import pytest

from bws_proto import bioidwebservice_pb2 as bws
from bws_proto import bioidwebservice_pb2_grpc as bws_grpc
from bws_proto import bwsmessages_pb2 as msg
from tests.security.own_service import blank_png


def test_the_id_photo_counts_in_the_pixel_budget(service):
    live, photo = blank_png(5000), blank_png(6300)  # 25 + 39.7 megapixels: each under 60, together over
    with service.channel() as channel:
        with pytest.raises(grpc.RpcError) as refused:
            bws_grpc.BioIDWebServiceStub(channel).PhotoVerify(
                bws.PhotoVerifyRequest(live_images=[msg.ImageData(image=live)], photo=photo,
                                       disable_liveness_detection=True),
                metadata=service.clients["tenant-a"].metadata(), timeout=120)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "64.7 megapixels" in refused.value.details() and "BWS_MAX_PIXELS_PER_CALL" in refused.value.details()
