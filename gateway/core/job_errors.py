"""The error codes a job reports, defined once: the BWS 3 codes (the `errors` list of every gRPC call and its REST
transcoding, as BioID documents and returns them) and the classic Web API's codes (/extension/), with the one map
between them. The call itself still succeeds (status SUCCEEDED): these say why its answer is negative.

BioID's sources: BWSClient-WebApp marks a deepfake only on RejectedByPassiveLiveDetection; BioID's Go PhotoVerify
sample shows one such entry per rejected live image with PASSIVE_REJECTED_MESSAGE, status SUCCEEDED and no
verification level; FaceLivenessDetection's Helper/Extensions.cs lists the classic codes."""
from __future__ import annotations

from dataclasses import dataclass

from gateway.engine import ImageAnalysis


@dataclass(frozen=True)
class JobError:
    error_code: str
    message: str


class Bws3:
    """JobError.error_code values of BWS 3."""
    FACE_NOT_FOUND = "FaceNotFound"
    MULTIPLE_FACES_FOUND = "MultipleFacesFound"
    THUMBNAIL_EXTRACTION_FAILED = "ThumbnailExtractionFailed"  # one face, but no usable face image of it
    REJECTED_BY_PASSIVE = "RejectedByPassiveLiveDetection"
    REJECTED_BY_ACTIVE = "RejectedByActiveLiveDetection"  # motion (or the images show different people)
    REJECTED_BY_CHALLENGE = "RejectedByChallengeResponse"
    NOT_ENOUGH_SAMPLES = "NotEnoughSamples"  # a video with too few usable frames
    # Enroll (the contract, section 1.2): no image gave a feature vector
    NO_SUITABLE_FACE_IMAGE = "NoSuitableFaceImage"
    NO_FEATURE_VECTORS = "NoFeatureVectors"
    TEMPLATES_NOT_UPGRADED = "TemplatesNotUpgraded"  # Search: templates of an older encoder were not searched


PASSIVE_REJECTED_MESSAGE = "At least one of the live images seem not to be recorded from a live person."


class Classic:
    """Error codes of the classic Web API (/extension/): a task's "Error", an upload's "Error", a 400's "Message"."""
    NO_FACE_FOUND = "NoFaceFound"
    MULTIPLE_FACES_FOUND = "MultipleFacesFound"
    LIVE_DETECTION_FAILED = "LiveDetectionFailed"
    CHALLENGE_RESPONSE_FAILED = "ChallengeResponseFailed"
    NOT_ENOUGH_SAMPLES = "NotEnoughSamples"
    NO_TEMPLATE_AVAILABLE = "NoTemplateAvailable"
    EXECUTION_TIMED_OUT = "ExecutionOfJobTimedOut"
    MISSING_DATA = "MissingData"
    INVALID_SAMPLE_DATA = "InvalidSampleData"
    NO_SUITABLE_FACE_IMAGE = "NoSuitableFaceImage"


# BWS 3 code -> classic code (what a classic call answers for the same condition); codes not listed are the same.
CLASSIC_CODE = {
    Bws3.FACE_NOT_FOUND: Classic.NO_FACE_FOUND,
    Bws3.THUMBNAIL_EXTRACTION_FAILED: Classic.NO_FACE_FOUND,
    Bws3.REJECTED_BY_PASSIVE: Classic.LIVE_DETECTION_FAILED,
    Bws3.REJECTED_BY_ACTIVE: Classic.LIVE_DETECTION_FAILED,
    Bws3.REJECTED_BY_CHALLENGE: Classic.CHALLENGE_RESPONSE_FAILED,
    Bws3.NO_FEATURE_VECTORS: Classic.NO_SUITABLE_FACE_IMAGE,
}


def classic_code(errors: list[JobError]) -> str | None:
    """The one classic code for a job's BWS 3 errors: a challenge failure first (it says what to do), else the
    first error's."""
    codes = [CLASSIC_CODE.get(e.error_code, e.error_code) for e in errors]
    if Classic.CHALLENGE_RESPONSE_FAILED in codes:
        return Classic.CHALLENGE_RESPONSE_FAILED
    return codes[0] if codes else None


def face_error(analysis: ImageAnalysis, where: str = "") -> JobError:
    """Why an image has no usable face: none found, several, or one whose face image cannot be used."""
    prefix = f"{where}: " if where else ""
    if not analysis.faces:
        return JobError(Bws3.FACE_NOT_FOUND, prefix + "no face found")
    if len(analysis.faces) > 1:
        return JobError(Bws3.MULTIPLE_FACES_FOUND, prefix + f"{len(analysis.faces) + analysis.uncounted} faces found, "
                        "one is needed")
    reasons = sorted({c.message for c in analysis.faces[0].checks if not c.passed and c.message})
    return JobError(Bws3.THUMBNAIL_EXTRACTION_FAILED, prefix + "the face found cannot be used"
                    + (f": {'; '.join(reasons)}" if reasons else ""))


def enrollment_error(analyses: list[ImageAnalysis], where: str = "") -> JobError:
    """Enroll's codes (the contract): NoFeatureVectors when a single face was found but could not be used,
    MultipleFacesFound when the other images show several faces of similar size (none a bystander; refused with
    BWS_MULTIPLE_FACES=refuse), NoSuitableFaceImage when no face was found."""
    prefix = f"{where}: " if where else ""
    single_face = [a for a in analyses if len(a.faces) == 1]
    if single_face:
        reasons = {c.message for a in single_face for c in a.faces[0].checks if not c.passed and c.message}
        return JobError(Bws3.NO_FEATURE_VECTORS, prefix + "faces found, but no feature vectors could be extracted"
                        + (f": {'; '.join(sorted(reasons))}" if reasons else ""))
    if any(len(a.faces) > 1 for a in analyses):
        return JobError(Bws3.MULTIPLE_FACES_FOUND, prefix + "several faces of similar size found, none of them a "
                        "bystander (smaller, off centre or cut by the border): send photos of one person")
    return JobError(Bws3.NO_SUITABLE_FACE_IMAGE, prefix + "no image holds exactly one face")
