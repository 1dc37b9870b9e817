from google.api import annotations_pb2 as _annotations_pb2
from bws_proto import bwsmessages_pb2 as _bwsmessages_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LivenessDetectionRequest(_message.Message):
    __slots__ = ("live_images",)
    LIVE_IMAGES_FIELD_NUMBER: _ClassVar[int]
    live_images: _containers.RepeatedCompositeFieldContainer[_bwsmessages_pb2.ImageData]
    def __init__(self, live_images: _Optional[_Iterable[_Union[_bwsmessages_pb2.ImageData, _Mapping]]] = ...) -> None: ...

class VideoLivenessDetectionRequest(_message.Message):
    __slots__ = ("video",)
    VIDEO_FIELD_NUMBER: _ClassVar[int]
    video: bytes
    def __init__(self, video: _Optional[bytes] = ...) -> None: ...

class LivenessDetectionResponse(_message.Message):
    __slots__ = ("status", "errors", "image_properties", "live", "liveness_score")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    IMAGE_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    LIVE_FIELD_NUMBER: _ClassVar[int]
    LIVENESS_SCORE_FIELD_NUMBER: _ClassVar[int]
    status: _bwsmessages_pb2.JobStatus
    errors: _containers.RepeatedCompositeFieldContainer[_bwsmessages_pb2.JobError]
    image_properties: _containers.RepeatedCompositeFieldContainer[_bwsmessages_pb2.ImageProperties]
    live: bool
    liveness_score: float
    def __init__(self, status: _Optional[_Union[_bwsmessages_pb2.JobStatus, str]] = ..., errors: _Optional[_Iterable[_Union[_bwsmessages_pb2.JobError, _Mapping]]] = ..., image_properties: _Optional[_Iterable[_Union[_bwsmessages_pb2.ImageProperties, _Mapping]]] = ..., live: _Optional[bool] = ..., liveness_score: _Optional[float] = ...) -> None: ...

class PhotoVerifyRequest(_message.Message):
    __slots__ = ("live_images", "photo", "disable_liveness_detection")
    LIVE_IMAGES_FIELD_NUMBER: _ClassVar[int]
    PHOTO_FIELD_NUMBER: _ClassVar[int]
    DISABLE_LIVENESS_DETECTION_FIELD_NUMBER: _ClassVar[int]
    live_images: _containers.RepeatedCompositeFieldContainer[_bwsmessages_pb2.ImageData]
    photo: bytes
    disable_liveness_detection: bool
    def __init__(self, live_images: _Optional[_Iterable[_Union[_bwsmessages_pb2.ImageData, _Mapping]]] = ..., photo: _Optional[bytes] = ..., disable_liveness_detection: _Optional[bool] = ...) -> None: ...

class PhotoVerifyResponse(_message.Message):
    __slots__ = ("status", "errors", "image_properties", "photo_properties", "verification_level", "verification_score", "live", "liveness_score")
    class AccuracyLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        NOT_RECOGNIZED: _ClassVar[PhotoVerifyResponse.AccuracyLevel]
        LEVEL_1: _ClassVar[PhotoVerifyResponse.AccuracyLevel]
        LEVEL_2: _ClassVar[PhotoVerifyResponse.AccuracyLevel]
        LEVEL_3: _ClassVar[PhotoVerifyResponse.AccuracyLevel]
        LEVEL_4: _ClassVar[PhotoVerifyResponse.AccuracyLevel]
        LEVEL_5: _ClassVar[PhotoVerifyResponse.AccuracyLevel]
    NOT_RECOGNIZED: PhotoVerifyResponse.AccuracyLevel
    LEVEL_1: PhotoVerifyResponse.AccuracyLevel
    LEVEL_2: PhotoVerifyResponse.AccuracyLevel
    LEVEL_3: PhotoVerifyResponse.AccuracyLevel
    LEVEL_4: PhotoVerifyResponse.AccuracyLevel
    LEVEL_5: PhotoVerifyResponse.AccuracyLevel
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    IMAGE_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    PHOTO_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_LEVEL_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_SCORE_FIELD_NUMBER: _ClassVar[int]
    LIVE_FIELD_NUMBER: _ClassVar[int]
    LIVENESS_SCORE_FIELD_NUMBER: _ClassVar[int]
    status: _bwsmessages_pb2.JobStatus
    errors: _containers.RepeatedCompositeFieldContainer[_bwsmessages_pb2.JobError]
    image_properties: _containers.RepeatedCompositeFieldContainer[_bwsmessages_pb2.ImageProperties]
    photo_properties: _bwsmessages_pb2.ImageProperties
    verification_level: PhotoVerifyResponse.AccuracyLevel
    verification_score: float
    live: bool
    liveness_score: float
    def __init__(self, status: _Optional[_Union[_bwsmessages_pb2.JobStatus, str]] = ..., errors: _Optional[_Iterable[_Union[_bwsmessages_pb2.JobError, _Mapping]]] = ..., image_properties: _Optional[_Iterable[_Union[_bwsmessages_pb2.ImageProperties, _Mapping]]] = ..., photo_properties: _Optional[_Union[_bwsmessages_pb2.ImageProperties, _Mapping]] = ..., verification_level: _Optional[_Union[PhotoVerifyResponse.AccuracyLevel, str]] = ..., verification_score: _Optional[float] = ..., live: _Optional[bool] = ..., liveness_score: _Optional[float] = ...) -> None: ...
