"""An OpenAPI 3 document generated from the same routes and descriptors,
described with the proto comments (bws_proto/comments.py, written by
protos/generate.py from the descriptors' source info)."""
from __future__ import annotations

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from bws_proto.comments import COMMENTS
from gateway.transport.openapi.extension_paths import extension_paths
from bws_proto.transcoding.routes import Route

_SCALARS = {
    FieldDescriptor.TYPE_DOUBLE: {"type": "number", "format": "double"},
    FieldDescriptor.TYPE_FLOAT: {"type": "number", "format": "float"},
    FieldDescriptor.TYPE_INT64: {"type": "integer", "format": "int64"},
    FieldDescriptor.TYPE_UINT64: {"type": "integer", "format": "int64", "minimum": 0},
    FieldDescriptor.TYPE_SINT64: {"type": "integer", "format": "int64"},
    FieldDescriptor.TYPE_FIXED64: {"type": "integer", "format": "int64", "minimum": 0},
    FieldDescriptor.TYPE_SFIXED64: {"type": "integer", "format": "int64"},
    FieldDescriptor.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_UINT32: {"type": "integer", "format": "int32", "minimum": 0},
    FieldDescriptor.TYPE_SINT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_FIXED32: {"type": "integer", "format": "int32", "minimum": 0},
    FieldDescriptor.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "format": "byte"},
}
_WELL_KNOWN = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string"},
    "google.protobuf.Empty": {"type": "object"},
}
ERROR_SCHEMA = {
    "type": "object",
    "properties": {"code": {"type": "integer", "description": "gRPC status code"},
                   "message": {"type": "string"}, "details": {"type": "array", "items": {"type": "object"}}},
    "required": ["code", "message", "details"],
}


SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
               "description": "A JWT signed HS256, HS384 or HS512 with the client's key (sub: the clientId, "
                              "aud: BWS)."},
    "bwsToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                 "description": "A BWS token from /extension/token: one user (BCID), one task."},
    "basic": {"type": "http", "scheme": "basic",
              "description": "appId:appSecret of a registered client (the application server)."},
}


def summary(text: str) -> str:
    """The first sentence of a comment."""
    first = text.split(". ")[0].split(": ")[0].rstrip(".")
    return first if len(first) <= 120 else first[:117] + "..."


def _described(schema: dict, key: str) -> dict:
    if key in COMMENTS:
        if "$ref" in schema:  # OpenAPI 3.0 ignores siblings of $ref
            return {"allOf": [schema], "description": COMMENTS[key]}
        schema["description"] = COMMENTS[key]
    return schema


def _reachable(descriptor: Descriptor, seen: set[str]) -> set[str]:
    if descriptor.full_name not in seen:
        seen.add(descriptor.full_name)
        for field in descriptor.fields:
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                _reachable(field.message_type, seen)
    return seen


class _Schemas:
    def __init__(self, inputs: set[str]) -> None:
        self.components: dict[str, dict] = {"Error": ERROR_SCHEMA}
        self.inputs = inputs  # messages clients send: nothing in them is required

    def ref(self, descriptor: Descriptor) -> dict:
        if descriptor.full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[descriptor.full_name])
        name = descriptor.full_name
        if name not in self.components:
            self.components[name] = {}  # placeholder first: messages may refer to themselves
            self.components[name] = self.message(descriptor)
        return {"$ref": f"#/components/schemas/{name}"}

    def message(self, descriptor: Descriptor, leave_out: tuple[str, ...] = ()) -> dict:
        fields = [f for f in descriptor.fields if f.name not in leave_out and f.json_name not in leave_out]
        schema = {"type": "object", "properties": {f.json_name: self.field(f) for f in fields},
                  "additionalProperties": False}
        if descriptor.full_name not in self.inputs:
            # The marshaler writes every field without presence (scalars, enums, lists, maps), defaults included.
            required = [f.json_name for f in fields if not f.has_presence]
            if required:
                schema["required"] = required
        return _described(schema, descriptor.full_name)

    def field(self, field: FieldDescriptor) -> dict:
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            single = self.ref(field.message_type)
        elif field.type == FieldDescriptor.TYPE_ENUM:
            single = {"type": "string", "enum": [v.name for v in field.enum_type.values]}
            keys = {v.name: f"{field.enum_type.full_name}.{v.name}" for v in field.enum_type.values}
            values = [f"`{name}`: {COMMENTS[key]}" for name, key in keys.items() if key in COMMENTS]
            if values:
                single["description"] = "; ".join(values)
        else:
            single = dict(_SCALARS[field.type])
        return _described({"type": "array", "items": single} if field.is_repeated else single, field.full_name)


def _parameters(route: Route, schemas: _Schemas) -> list[dict]:
    descriptor = route.method.input_type
    parameters = []
    for variable in route.variables:
        field = descriptor.fields_by_name.get(variable) or next(f for f in descriptor.fields
                                                                if f.json_name == variable)
        parameters.append({"name": variable, "in": "path", "required": True, "schema": schemas.field(field),
                           **_description(field.full_name)})
    if route.body != "*":
        for field in descriptor.fields:
            if field.name in route.variables or field.json_name in route.variables or field.name == route.body:
                continue
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                continue
            parameter = {"name": field.json_name, "in": "query", "required": False, "schema": schemas.field(field),
                         **_description(field.full_name)}
            if field.is_repeated:
                parameter.update(style="form", explode=True)
            parameters.append(parameter)
    return parameters


def _description(key: str) -> dict:
    return {"description": COMMENTS[key]} if key in COMMENTS else {}


def _request_body(route: Route, schemas: _Schemas) -> dict | None:
    descriptor = route.method.input_type
    if not route.body:
        return None
    if route.body == "*":
        schema = schemas.message(descriptor, leave_out=route.variables)
    else:
        schema = schemas.field(descriptor.fields_by_name[route.body])
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def openapi_document(routes: list[Route], title: str, version: str) -> dict:
    inputs: set[str] = set()
    for route in routes:
        _reachable(route.method.input_type, inputs)
    schemas = _Schemas(inputs)
    paths: dict[str, dict] = {}
    error_schema = {"$ref": "#/components/schemas/Error"}
    error = lambda text: {"description": text, "content": {"application/json": {"schema": error_schema}}}
    errors = {"400": error("INVALID_ARGUMENT: the request or an image is not usable"),
              "401": error("UNAUTHENTICATED: missing, invalid or expired token"),
              "default": error("another gRPC status as JSON (HTTP status from the gRPC code)")}
    services: dict[str, str] = {}
    for route in routes:
        method = route.method
        service = method.containing_service
        services[service.name] = COMMENTS.get(f"file:{service.file.name}", "")
        comment = COMMENTS.get(method.full_name, method.name)
        operation = {
            "operationId": f"{service.name}_{method.name}",
            "summary": summary(comment),
            "description": f"{comment}\n\ngRPC: `{route.grpc_path}`",
            "tags": [service.name],
            "parameters": _parameters(route, schemas),
            "security": [{"bearer": []}],
            "responses": {"200": {"description": "OK", "content": {"application/json": {
                "schema": schemas.ref(method.output_type)}}}, **errors},
        }
        body = _request_body(route, schemas)
        if body:
            operation["requestBody"] = body
        paths.setdefault(route.template, {})[route.http_method.lower()] = operation
    paths.update(_probe_paths())
    paths.update(extension_paths())
    tags = [{"name": name, "description": text} for name, text in services.items()]
    tags += [{"name": "probes", "description": "Health and metrics for orchestrators; no authentication."},
             {"name": "extension", "description": "The BWS 2 token flow for capture front ends."}]
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": version,
                 "description": "REST transcoding of the gRPC API (same messages as JSON, camelCase names, "
                                "defaults written) and the BWS 2 token flow. Errors are gRPC statuses as JSON.",
                 "license": {"name": "MIT", "url": "https://opensource.org/licenses/MIT"}},
        "servers": [{"url": "/", "description": "this gateway"}],
        "tags": tags,
        "paths": paths,
        "components": {"schemas": schemas.components, "securitySchemes": SECURITY_SCHEMES},
    }


def _probe_paths() -> dict[str, dict]:
    def probe(operation_id: str, text: str, ok: str, failed: str | None) -> dict:
        responses = {"200": {"description": ok, "content": {"application/json": {"schema": {"type": "object"}}}}}
        if failed:
            responses["503"] = {"description": failed,
                                "content": {"application/json": {"schema": {"type": "object"}}}}
        return {"get": {"operationId": operation_id, "summary": text, "tags": ["probes"], "security": [],
                        "responses": responses}}
    return {
        "/livez": probe("livez", "the process is alive", "alive", None),
        "/readyz": probe("readyz", "ready to serve: store reachable, search index loaded",
                         "ready: `{\"ready\": true, \"checks\": {...}}`", "not ready, with the failing checks"),
        "/metrics": {"get": {"operationId": "metrics", "summary": "Prometheus metrics", "tags": ["probes"],
                             "security": [], "responses": {"200": {"description": "Prometheus text format",
                                                                   "content": {"text/plain": {"schema": {
                                                                       "type": "string"}}}}}}},
    }
