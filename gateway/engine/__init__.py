"""The face engine: image bytes in; faces, quality and descriptors out.

    engine = FaceEngine()                 # in-process (one image at a time)
    analysis = engine.analyze(jpeg_bytes)
    analysis.face.descriptor              # unit 128-d vector, or analysis.face is None

    pool = EnginePool(workers=2)          # the same, in worker processes
    analysis = await pool.analyze(jpeg_bytes)
"""
from gateway.engine.encoders import CURRENT as ENCODER
from gateway.engine.encoders import EncoderSpec
from gateway.engine.face_engine import EngineOptions, FaceEngine
from gateway.engine.pad import PadOptions
from gateway.engine.pool import EnginePool, EngineUnavailable, JobLimits, JobTooLong
from gateway.engine.quality import QualityLimits
from gateway.engine.types import Face, ImageAnalysis, ImageLimits, InvalidImage, Point, QualityCheck
from gateway.engine.video import InvalidVideo, VideoLimits

ENCODER_VERSION = ENCODER.version

__all__ = ["ENCODER", "ENCODER_VERSION", "EncoderSpec", "EngineOptions", "FaceEngine", "EnginePool",
           "EngineUnavailable", "QualityLimits", "Face", "ImageAnalysis", "ImageLimits", "InvalidImage",
           "InvalidVideo", "JobLimits", "JobTooLong", "PadOptions", "Point", "QualityCheck", "VideoLimits"]
