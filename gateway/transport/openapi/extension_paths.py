"""The /extension/ routes (BWS 2 token flow, gateway/transport/extension/http.py) in
OpenAPI terms: they are hand-written aiohttp handlers, not transcoded."""
from __future__ import annotations

from gateway.transport.extension.tasks import TASKS

_JSON = "application/json"
_TASK_RESULT = {"type": "object", "required": ["Success", "Error"], "properties": {
    "Success": {"type": "boolean"},
    "Error": {"type": "string", "nullable": True, "description": "e.g. NotEnoughSamples, LiveDetectionFailed, "
              "ChallengeResponseFailed, NoTemplateAvailable, NoSuitableFaceImage, ExecutionOfJobTimedOut"},
    "Matches": {"type": "array", "description": "identify: best first",
                "items": {"type": "object", "required": ["BCID", "Score"],
                          "properties": {"BCID": {"type": "string"}, "Score": {"type": "number"}}}}}}
_UPLOAD = {"type": "object", "required": ["Accepted"], "properties": {
    "Accepted": {"type": "boolean"}, "Warnings": {"type": "array", "items": {"type": "string"}},
    "Error": {"type": "string"}, "Message": {"type": "string"}}}
_FAILURE = {"type": "object", "properties": {"Success": {"type": "boolean"}, "Error": {"type": "string"}},
            "required": ["Error"]}


def _query(name: str, description: str, required: bool = False, **schema) -> dict:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema or {"type": "string"}}


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {_JSON: {"schema": schema}}}


def _errors(*codes: str) -> dict:
    texts = {"400": "a bad parameter or no samples", "401": "missing, invalid or expired credentials",
             "403": "not allowed: another task, tries used up, or a BCID outside the application's partition"}
    return {code: _json(texts[code], _FAILURE) for code in codes}


def extension_paths() -> dict[str, dict]:
    tag = ["extension"]
    paths: dict[str, dict] = {
        "/extension/token": {"get": {
            "operationId": "extension_token", "tags": tag, "security": [{"basic": []}],
            "summary": "Issue a BWS token for one user and one task",
            "description": "Called by the application server; the token goes to the capture front end.",
            "parameters": [
                _query("id", "the application id (must be the authenticated one)"),
                _query("bcid", "storage/partition/classId, in the application's partition", True),
                _query("task", "the task the token allows", True, type="string", enum=list(TASKS)),
                _query("maxtries", "1 to 15 (default 3)", type="integer", minimum=1, maximum=15),
                _query("livedetection", "require liveness (default true)", type="boolean"),
                _query("challenge", "add three random head directions to the token (default false)",
                       type="boolean")],
            "responses": {"200": {"description": "the token (a JWT)",
                                  "content": {"text/plain": {"schema": {"type": "string"}}}},
                          **_errors("400", "401", "403")}}},
        "/extension/upload": {"post": {
            "operationId": "extension_upload", "tags": tag, "security": [{"bwsToken": []}],
            "summary": "Upload one sample image as a data URL",
            "parameters": [_query("tag", "the challenge direction this sample answers (left, right, up, down)"),
                           _query("index", "position of the sample (default: upload time)", type="integer")],
            "requestBody": {"required": True, "content": {"text/plain": {"schema": {
                "type": "string", "example": "data:image/jpeg;base64,/9j/4AAQ..."}}}},
            "responses": {"200": _json("accepted or not, with warnings", _UPLOAD),
                **_errors("400", "401"),
                "413": _json("not accepted: a body over 50 MiB (InvalidSample), or over the token's bytes of "
                             "samples (SamplesTooLarge)", _UPLOAD),
                "429": {**_json("not accepted: the service holds too many request bytes (TooManyRequests), or the "
                                "application's samples fill its share (ApplicationSampleLimit); retry after "
                                "Retry-After seconds", _UPLOAD),
                        "headers": {"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}}}}}},
        "/extension/result": {"get": {
            "operationId": "extension_result", "tags": tag, "security": [{"basic": []}],
            "summary": "The result of the last task of a token",
            "parameters": [_query("access_token", "the BWS token", True)],
            "responses": {"200": _json("the result", {"type": "object", "properties": {
                "Action": {"type": "string"}, "BCID": {"type": "string"}, **_TASK_RESULT["properties"]}}),
                "204": {"description": "no task has run yet"}, **_errors("400", "401")}}},
    }
    paths.update(_direct_paths(tag))
    for task, text in ((task.name, task.summary) for task in TASKS.values()):
        parameters = [_query("livedetection", "add liveness to a token without it", type="boolean")]
        if task == "identify":
            parameters.append(_query("maxresults", "at most this many matches (default 20)", type="integer",
                                     minimum=1))
        paths[f"/extension/{task}"] = {"get": {
            "operationId": f"extension_{task}", "tags": tag, "security": [{"bwsToken": []}],
            "summary": text.rstrip("."), "description": text + " The samples are used once; each call counts a try.",
            "parameters": parameters,
            "responses": {"200": _json("the task ran", _TASK_RESULT),
                          "500": _json("ExecutionOfJobTimedOut", _TASK_RESULT), **_errors("400", "401", "403")}}}
    return paths


_CODE_MESSAGE = {"type": "object", "required": ["Message"], "properties": {"Message": {
    "type": "string", "description": "the classic error code (MissingData, InvalidSampleData, NoFaceFound, "
    "MultipleFacesFound) or what is wrong"}}}
_ERRORS = {"type": "array", "items": {"type": "object", "properties": {
    "Code": {"type": "string"}, "Message": {"type": "string"}, "Details": {"type": "string"}}}}
_RESULT = {"type": "object", "required": ["Success", "JobID", "State", "Errors"], "properties": {
    "Success": {"type": "boolean"}, "JobID": {"type": "string"}, "State": {"type": "string", "nullable": True},
    "Errors": _ERRORS, "AccuracyLevel": {"type": "integer", "description": "photoverify2: 0 to 5"},
    "Samples": {"type": "array", "items": {"type": "object"}}, "EyeCenters": {"type": "object", "nullable": True}}}
_IMAGES = {"type": "object", "properties": {name: {"type": "string", "description": "a data URL; data:, is none"}
                                            for name in ("liveimage1", "liveimage2", "idphoto")}}


def _direct_paths(tag: list[str]) -> dict[str, dict]:
    """The classic direct calls (gateway/transport/extension/direct.py), Basic app id and secret."""
    basic = [{"basic": []}]
    fails = {"400": _json("a sample that cannot be used, or a bad parameter", _CODE_MESSAGE),
             "401": _json("missing or wrong app id and secret", _CODE_MESSAGE),
             "403": _json("an operation the application lacks, or a BCID outside its partition", _CODE_MESSAGE)}
    state = _query("state", "passed through to the result object")
    body = {"required": True, "content": {"application/json": {"schema": _IMAGES},
                                          "application/x-www-form-urlencoded": {"schema": _IMAGES}}}
    raw = {"required": True, "content": {"text/plain": {"schema": {"type": "string",
                                                                   "example": "data:image/png;base64,..."}}}}

    def post(name: str, summary: str, parameters: list, request: dict, ok: dict) -> dict:
        return {"post": {"operationId": f"extension_{name}", "tags": tag, "security": basic, "summary": summary,
                         "parameters": parameters, "requestBody": request, "responses": {"200": ok, **fails}}}

    boolean = _json("true or false", {"type": "boolean"})
    accuracy = _query("accuracy", "1 to 5 (default 4)", type="integer")
    return {
        "/extension/status": {"get": {
            "operationId": "extension_status", "tags": tag, "security": basic,
            "summary": "Version, label and the features the application may use",
            "responses": {"200": _json("StatusResult", {"type": "object"}), "401": fails["401"]}}},
        "/extension/isenrolled": {"get": {
            "operationId": "extension_isenrolled", "tags": tag, "security": basic,
            "summary": "Whether a face template exists for a BCID",
            "parameters": [_query("bcid", "storage.partition.classId (or with /)", True),
                           _query("trait", "face (periocular, voice: never enrolled here)", True)],
            "responses": {"200": {"description": "enrolled"}, "404": {"description": "not enrolled"}, **fails}}},
        "/extension/qualitycheck": post("qualitycheck", "Quality checks of one image", [state], raw,
                                        _json("QualityCheckResult", _RESULT)),
        "/extension/livedetection": post("livedetection", "Liveness of two live images", [state], body,
                                         _json("true or false; with state, the result object",
                                               {"oneOf": [{"type": "boolean"}, _RESULT]})),
        "/extension/passivelivedetection": post("passivelivedetection", "Passive liveness of one image", [state],
                                                raw, _json("LiveDetectionResult", _RESULT)),
        "/extension/photoverify": post("photoverify", "Live images against an ID photo", [accuracy], body, boolean),
        "/extension/photoverify2": post("photoverify2", "Live images against an ID photo, with the level",
                                        [accuracy, state], body, _json("PhotoVerify2 result", _RESULT)),
    }
