"""An OpenAPI 3 document generated from the same routes and descriptors."""
from __future__ import annotations

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from gateway.rest.routes import Route

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


class _Schemas:
    def __init__(self) -> None:
        self.components: dict[str, dict] = {"Error": ERROR_SCHEMA}

    def ref(self, descriptor: Descriptor) -> dict:
        if descriptor.full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[descriptor.full_name])
        name = descriptor.full_name
        if name not in self.components:
            self.components[name] = {}  # placeholder first: messages may refer to themselves
            self.components[name] = self.message(descriptor)
        return {"$ref": f"#/components/schemas/{name}"}

    def message(self, descriptor: Descriptor, leave_out: tuple[str, ...] = ()) -> dict:
        properties = {f.json_name: self.field(f) for f in descriptor.fields
                      if f.name not in leave_out and f.json_name not in leave_out}
        return {"type": "object", "properties": properties, "additionalProperties": False}

    def field(self, field: FieldDescriptor) -> dict:
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            single = self.ref(field.message_type)
        elif field.type == FieldDescriptor.TYPE_ENUM:
            single = {"type": "string", "enum": [v.name for v in field.enum_type.values]}
        else:
            single = dict(_SCALARS[field.type])
        return {"type": "array", "items": single} if field.is_repeated else single


def _parameters(route: Route, schemas: _Schemas) -> list[dict]:
    descriptor = route.method.input_type
    parameters = []
    for variable in route.variables:
        field = descriptor.fields_by_name.get(variable) or next(f for f in descriptor.fields
                                                                if f.json_name == variable)
        parameters.append({"name": variable, "in": "path", "required": True, "schema": schemas.field(field)})
    if route.body != "*":
        for field in descriptor.fields:
            if field.name in route.variables or field.json_name in route.variables or field.name == route.body:
                continue
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                continue
            parameter = {"name": field.json_name, "in": "query", "required": False, "schema": schemas.field(field)}
            if field.is_repeated:
                parameter.update(style="form", explode=True)
            parameters.append(parameter)
    return parameters


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
    schemas = _Schemas()
    paths: dict[str, dict] = {}
    error_schema = {"$ref": "#/components/schemas/Error"}
    error = {"description": "error", "content": {"application/json": {"schema": error_schema}}}
    for route in routes:
        method = route.method
        operation = {
            "operationId": f"{method.containing_service.name}_{method.name}",
            "tags": [method.containing_service.name],
            "parameters": _parameters(route, schemas),
            "security": [{"bearer": []}],
            "responses": {"200": {"description": "OK", "content": {"application/json": {
                "schema": schemas.ref(method.output_type)}}}, "default": error},
        }
        body = _request_body(route, schemas)
        if body:
            operation["requestBody"] = body
        paths.setdefault(route.template, {})[route.http_method.lower()] = operation
    probe = {"responses": {"200": {"description": "yes"}, "503": {"description": "no"}}, "security": []}
    paths["/livez"] = {"get": {**probe, "operationId": "livez", "summary": "the process is alive"}}
    paths["/readyz"] = {"get": {**probe, "operationId": "readyz",
                                "summary": "ready to serve: store reachable, search index loaded"}}
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {"schemas": schemas.components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }
