import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from bws_proto import bwsmessages_pb2 as _bwsmessages_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FaceEnrollmentRequest(_message.Message):
    __slots__ = ("classId", "images")
    CLASSID_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    classId: int
    images: _containers.RepeatedCompositeFieldContainer[_bwsmessages_pb2.ImageData]
    def __init__(self, classId: _Optional[int] = ..., images: _Optional[_Iterable[_Union[_bwsmessages_pb2.ImageData, _Mapping]]] = ...) -> None: ...

class FaceEnrollmentResponse(_message.Message):
    __slots__ = ("status", "errors", "image_properties", "performed_action", "enrolled_images", "template_status")
    class EnrollmentAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        NONE: _ClassVar[FaceEnrollmentResponse.EnrollmentAction]
        NEW_TEMPLATE_CREATED: _ClassVar[FaceEnrollmentResponse.EnrollmentAction]
        TEMPLATE_UPDATED: _ClassVar[FaceEnrollmentResponse.EnrollmentAction]
        TEMPLATE_UPGRADED: _ClassVar[FaceEnrollmentResponse.EnrollmentAction]
        TEMPLATE_IMPORTED: _ClassVar[FaceEnrollmentResponse.EnrollmentAction]
        ENROLLMENT_FAILED: _ClassVar[FaceEnrollmentResponse.EnrollmentAction]
    NONE: FaceEnrollmentResponse.EnrollmentAction
    NEW_TEMPLATE_CREATED: FaceEnrollmentResponse.EnrollmentAction
    TEMPLATE_UPDATED: FaceEnrollmentResponse.EnrollmentAction
    TEMPLATE_UPGRADED: FaceEnrollmentResponse.EnrollmentAction
    TEMPLATE_IMPORTED: FaceEnrollmentResponse.EnrollmentAction
    ENROLLMENT_FAILED: FaceEnrollmentResponse.EnrollmentAction
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    IMAGE_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    PERFORMED_ACTION_FIELD_NUMBER: _ClassVar[int]
    ENROLLED_IMAGES_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_STATUS_FIELD_NUMBER: _ClassVar[int]
    status: _bwsmessages_pb2.JobStatus
    errors: _containers.RepeatedCompositeFieldContainer[_bwsmessages_pb2.JobError]
    image_properties: _containers.RepeatedCompositeFieldContainer[_bwsmessages_pb2.ImageProperties]
    performed_action: FaceEnrollmentResponse.EnrollmentAction
    enrolled_images: int
    template_status: FaceTemplateStatus
    def __init__(self, status: _Optional[_Union[_bwsmessages_pb2.JobStatus, str]] = ..., errors: _Optional[_Iterable[_Union[_bwsmessages_pb2.JobError, _Mapping]]] = ..., image_properties: _Optional[_Iterable[_Union[_bwsmessages_pb2.ImageProperties, _Mapping]]] = ..., performed_action: _Optional[_Union[FaceEnrollmentResponse.EnrollmentAction, str]] = ..., enrolled_images: _Optional[int] = ..., template_status: _Optional[_Union[FaceTemplateStatus, _Mapping]] = ...) -> None: ...

class FaceVerificationRequest(_message.Message):
    __slots__ = ("classId", "image")
    CLASSID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    classId: int
    image: _bwsmessages_pb2.ImageData
    def __init__(self, classId: _Optional[int] = ..., image: _Optional[_Union[_bwsmessages_pb2.ImageData, _Mapping]] = ...) -> None: ...

class FaceVerificationResponse(_message.Message):
    __slots__ = ("status", "errors", "image_properties", "verified", "score")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    IMAGE_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    status: _bwsmessages_pb2.JobStatus
    errors: _containers.RepeatedCompositeFieldContainer[_bwsmessages_pb2.JobError]
    image_properties: _bwsmessages_pb2.ImageProperties
    verified: bool
    score: float
    def __init__(self, status: _Optional[_Union[_bwsmessages_pb2.JobStatus, str]] = ..., errors: _Optional[_Iterable[_Union[_bwsmessages_pb2.JobError, _Mapping]]] = ..., image_properties: _Optional[_Union[_bwsmessages_pb2.ImageProperties, _Mapping]] = ..., verified: _Optional[bool] = ..., score: _Optional[float] = ...) -> None: ...

class FaceSearchRequest(_message.Message):
    __slots__ = ("images", "tags", "top_matches")
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    TOP_MATCHES_FIELD_NUMBER: _ClassVar[int]
    images: _containers.RepeatedCompositeFieldContainer[_bwsmessages_pb2.ImageData]
    tags: _containers.RepeatedScalarFieldContainer[str]
    top_matches: bool
    def __init__(self, images: _Optional[_Iterable[_Union[_bwsmessages_pb2.ImageData, _Mapping]]] = ..., tags: _Optional[_Iterable[str]] = ..., top_matches: _Optional[bool] = ...) -> None: ...

class FaceSearchResponse(_message.Message):
    __slots__ = ("status", "errors", "image_properties", "result")
    class TemplateMatchResult(_message.Message):
        __slots__ = ("classId", "score")
        CLASSID_FIELD_NUMBER: _ClassVar[int]
        SCORE_FIELD_NUMBER: _ClassVar[int]
        classId: int
        score: float
        def __init__(self, classId: _Optional[int] = ..., score: _Optional[float] = ...) -> None: ...
    class SearchResult(_message.Message):
        __slots__ = ("matches",)
        MATCHES_FIELD_NUMBER: _ClassVar[int]
        matches: _containers.RepeatedCompositeFieldContainer[FaceSearchResponse.TemplateMatchResult]
        def __init__(self, matches: _Optional[_Iterable[_Union[FaceSearchResponse.TemplateMatchResult, _Mapping]]] = ...) -> None: ...
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    IMAGE_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    status: _bwsmessages_pb2.JobStatus
    errors: _containers.RepeatedCompositeFieldContainer[_bwsmessages_pb2.JobError]
    image_properties: _containers.RepeatedCompositeFieldContainer[_bwsmessages_pb2.ImageProperties]
    result: _containers.RepeatedCompositeFieldContainer[FaceSearchResponse.SearchResult]
    def __init__(self, status: _Optional[_Union[_bwsmessages_pb2.JobStatus, str]] = ..., errors: _Optional[_Iterable[_Union[_bwsmessages_pb2.JobError, _Mapping]]] = ..., image_properties: _Optional[_Iterable[_Union[_bwsmessages_pb2.ImageProperties, _Mapping]]] = ..., result: _Optional[_Iterable[_Union[FaceSearchResponse.SearchResult, _Mapping]]] = ...) -> None: ...

class SetTemplateTagsRequest(_message.Message):
    __slots__ = ("classId", "tags")
    CLASSID_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    classId: int
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, classId: _Optional[int] = ..., tags: _Optional[_Iterable[str]] = ...) -> None: ...

class SetTemplateTagsResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class FaceTemplateStatusRequest(_message.Message):
    __slots__ = ("classId", "download_thumbnails")
    CLASSID_FIELD_NUMBER: _ClassVar[int]
    DOWNLOAD_THUMBNAILS_FIELD_NUMBER: _ClassVar[int]
    classId: int
    download_thumbnails: bool
    def __init__(self, classId: _Optional[int] = ..., download_thumbnails: _Optional[bool] = ...) -> None: ...

class FaceTemplateStatus(_message.Message):
    __slots__ = ("classId", "available", "enrolled", "tags", "encoder_version", "feature_vectors", "thumbnails_stored", "thumbnails")
    class Thumbnail(_message.Message):
        __slots__ = ("enrolled", "image")
        ENROLLED_FIELD_NUMBER: _ClassVar[int]
        IMAGE_FIELD_NUMBER: _ClassVar[int]
        enrolled: _timestamp_pb2.Timestamp
        image: bytes
        def __init__(self, enrolled: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., image: _Optional[bytes] = ...) -> None: ...
    CLASSID_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    ENROLLED_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    ENCODER_VERSION_FIELD_NUMBER: _ClassVar[int]
    FEATURE_VECTORS_FIELD_NUMBER: _ClassVar[int]
    THUMBNAILS_STORED_FIELD_NUMBER: _ClassVar[int]
    THUMBNAILS_FIELD_NUMBER: _ClassVar[int]
    classId: int
    available: bool
    enrolled: _timestamp_pb2.Timestamp
    tags: _containers.RepeatedScalarFieldContainer[str]
    encoder_version: int
    feature_vectors: int
    thumbnails_stored: int
    thumbnails: _containers.RepeatedCompositeFieldContainer[FaceTemplateStatus.Thumbnail]
    def __init__(self, classId: _Optional[int] = ..., available: _Optional[bool] = ..., enrolled: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tags: _Optional[_Iterable[str]] = ..., encoder_version: _Optional[int] = ..., feature_vectors: _Optional[int] = ..., thumbnails_stored: _Optional[int] = ..., thumbnails: _Optional[_Iterable[_Union[FaceTemplateStatus.Thumbnail, _Mapping]]] = ...) -> None: ...

class GetClassCountRequest(_message.Message):
    __slots__ = ("tags",)
    TAGS_FIELD_NUMBER: _ClassVar[int]
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, tags: _Optional[_Iterable[str]] = ...) -> None: ...

class GetClassCountResponse(_message.Message):
    __slots__ = ("number_of_classes",)
    NUMBER_OF_CLASSES_FIELD_NUMBER: _ClassVar[int]
    number_of_classes: int
    def __init__(self, number_of_classes: _Optional[int] = ...) -> None: ...

class DeleteTemplateRequest(_message.Message):
    __slots__ = ("classId",)
    CLASSID_FIELD_NUMBER: _ClassVar[int]
    classId: int
    def __init__(self, classId: _Optional[int] = ...) -> None: ...

class DeleteTemplateResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
