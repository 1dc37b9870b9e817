from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUCCEEDED: _ClassVar[JobStatus]
    FAULTED: _ClassVar[JobStatus]
    CANCELLED: _ClassVar[JobStatus]
SUCCEEDED: JobStatus
FAULTED: JobStatus
CANCELLED: JobStatus

class ImageData(_message.Message):
    __slots__ = ("image", "tags")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    image: bytes
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, image: _Optional[bytes] = ..., tags: _Optional[_Iterable[str]] = ...) -> None: ...

class ImageProperties(_message.Message):
    __slots__ = ("rotated", "faces", "quality_score", "quality_assessments", "frame_number")
    ROTATED_FIELD_NUMBER: _ClassVar[int]
    FACES_FIELD_NUMBER: _ClassVar[int]
    QUALITY_SCORE_FIELD_NUMBER: _ClassVar[int]
    QUALITY_ASSESSMENTS_FIELD_NUMBER: _ClassVar[int]
    FRAME_NUMBER_FIELD_NUMBER: _ClassVar[int]
    rotated: int
    faces: _containers.RepeatedCompositeFieldContainer[Face]
    quality_score: float
    quality_assessments: _containers.RepeatedCompositeFieldContainer[QualityAssessment]
    frame_number: int
    def __init__(self, rotated: _Optional[int] = ..., faces: _Optional[_Iterable[_Union[Face, _Mapping]]] = ..., quality_score: _Optional[float] = ..., quality_assessments: _Optional[_Iterable[_Union[QualityAssessment, _Mapping]]] = ..., frame_number: _Optional[int] = ...) -> None: ...

class Face(_message.Message):
    __slots__ = ("left_eye", "right_eye", "texture_liveness_score", "motion_liveness_score", "movement_direction")
    LEFT_EYE_FIELD_NUMBER: _ClassVar[int]
    RIGHT_EYE_FIELD_NUMBER: _ClassVar[int]
    TEXTURE_LIVENESS_SCORE_FIELD_NUMBER: _ClassVar[int]
    MOTION_LIVENESS_SCORE_FIELD_NUMBER: _ClassVar[int]
    MOVEMENT_DIRECTION_FIELD_NUMBER: _ClassVar[int]
    left_eye: PointD
    right_eye: PointD
    texture_liveness_score: float
    motion_liveness_score: float
    movement_direction: float
    def __init__(self, left_eye: _Optional[_Union[PointD, _Mapping]] = ..., right_eye: _Optional[_Union[PointD, _Mapping]] = ..., texture_liveness_score: _Optional[float] = ..., motion_liveness_score: _Optional[float] = ..., movement_direction: _Optional[float] = ...) -> None: ...

class PointD(_message.Message):
    __slots__ = ("x", "y")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    x: float
    y: float
    def __init__(self, x: _Optional[float] = ..., y: _Optional[float] = ...) -> None: ...

class QualityAssessment(_message.Message):
    __slots__ = ("check", "score", "message")
    CHECK_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    check: str
    score: float
    message: str
    def __init__(self, check: _Optional[str] = ..., score: _Optional[float] = ..., message: _Optional[str] = ...) -> None: ...

class JobError(_message.Message):
    __slots__ = ("error_code", "message")
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    error_code: str
    message: str
    def __init__(self, error_code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...
