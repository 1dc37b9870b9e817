"""HTTP routes read from the google.api.http options of service descriptors."""
from __future__ import annotations

import re
from dataclasses import dataclass

from google.api import annotations_pb2, http_pb2
from google.protobuf.descriptor import FileDescriptor, MethodDescriptor

_VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)(?:=([^}]*))?\}")


@dataclass(frozen=True)
class Route:
    http_method: str  # GET, POST, ...
    template: str  # e.g. /api/face/v1/enroll/{classId}
    body: str  # "", "*" or a top-level field name
    method: MethodDescriptor
    pattern: re.Pattern
    variables: tuple[str, ...]  # field paths bound from the URL path

    @property
    def grpc_path(self) -> str:
        return f"/{self.method.containing_service.full_name}/{self.method.name}"

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path)
        return None if found is None else dict(zip(self.variables, found.groups()))


def compile_template(template: str) -> tuple[re.Pattern, tuple[str, ...]]:
    """`/a/{x}/b/{y=c/*}` to a regex with one group per variable."""
    regex, variables, position = "", [], 0
    for found in _VARIABLE.finditer(template):
        regex += re.escape(template[position:found.start()])
        variables.append(found.group(1))
        segments = found.group(2) or "*"
        regex += "(" + "/".join(".+" if s == "**" else "[^/]+" if s == "*" else re.escape(s)
                                for s in segments.split("/")) + ")"
        position = found.end()
    regex += re.escape(template[position:])
    return re.compile(regex), tuple(variables)


def _bindings(rule: http_pb2.HttpRule):
    yield rule
    for extra in rule.additional_bindings:
        yield from _bindings(extra)


def routes_of(files: list[FileDescriptor]) -> list[Route]:
    routes = []
    for file in files:
        for service in file.services_by_name.values():
            for method in service.methods:
                options = method.GetOptions()
                if not options.HasExtension(annotations_pb2.http):
                    continue
                for rule in _bindings(options.Extensions[annotations_pb2.http]):
                    kind = rule.WhichOneof("pattern")
                    if kind is None:
                        continue
                    if kind == "custom":
                        verb, template = rule.custom.kind.upper(), rule.custom.path
                    else:
                        verb, template = kind.upper(), getattr(rule, kind)
                    pattern, variables = compile_template(template)
                    routes.append(Route(verb, template, rule.body, method, pattern, variables))
    return routes
