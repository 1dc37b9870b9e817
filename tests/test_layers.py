"""The import rules of the layers (docs/architecture.md), read from the source: each rule names the modules it
covers and the imports they may not make. A module's own imports count (not what those import in turn), except
for bws_cli, which must install and run without the server: nothing it reaches may be gateway."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Rule:
    covers: str  # a dotted package prefix
    forbidden: tuple[str, ...]  # dotted prefixes its modules may not import
    why: str
    allowed: tuple[str, ...] = ()  # exceptions to `forbidden` (the package itself)


RULES = (
    Rule("gateway.core", ("grpc", "aiohttp", "redis", "google.protobuf", "bws_proto", "gateway.transport",
                          "gateway.infra", "gateway.app", "gateway.cli", "templates_store.connection",
                          "templates_store.embedded"),
         "the BWS logic knows no transport, infrastructure or store driver"),
    Rule("gateway.engine", ("gateway", "grpc", "aiohttp", "redis", "templates_store"),
         "the engine is image bytes in, faces out: nothing of the service", allowed=("gateway.engine",)),
    Rule("gateway.infra", ("gateway.transport", "gateway.app", "gateway.cli", "aiohttp.web"),
         "infrastructure serves the transports, it does not call them"),
    Rule("gateway.transport", ("gateway.app", "gateway.cli", "redis", "templates_store.connection"),
         "transports reach the store through core only"),
    Rule("templates_store", ("gateway", "grpc", "aiohttp", "bws_proto"), "the store knows no transport"),
    Rule("bws_proto", ("gateway", "templates_store", "aiohttp", "redis", "numpy"),
         "the contract is shared by the server and the CLI"),
    Rule("bws_cli", ("gateway", "templates_store", "aiohttp", "redis", "numpy"),
         "the CLI installs without the server"),
)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path) -> set[str]:
    """Every module a file imports, relative imports resolved, `from a import b` counted as a.b too."""
    tree = ast.parse(path.read_text(), str(path))
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(root: Path, rules=RULES) -> list[str]:
    """'module imports name: why' for every import a rule forbids, under root."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if ".venv" in path.parts or "tests" in path.parts:
            continue
        module = module_name(path, root)
        for rule in rules:
            if not _under(module, rule.covers):
                continue
            reported: list[str] = []
            for name in sorted(imports_of(path, root)):  # `from a import b` is reported once, as a
                if any(_under(name, bad) for bad in rule.forbidden) and not any(
                        _under(name, ok) for ok in rule.allowed) and not any(_under(name, r) for r in reported):
                    reported.append(name)
                    found.append(f"{module} imports {name}: {rule.why}")
    return found


def test_the_code_keeps_the_import_rules():
    assert violations(ROOT) == []


def test_the_cli_reaches_no_gateway_module():
    """Transitively: every bws_cli and bws_proto module it imports in turn imports no gateway."""
    seen, todo = set(), ["bws_cli.main"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for candidate in (ROOT / (name.replace(".", "/") + ".py"), ROOT / name.replace(".", "/") / "__init__.py"):
            if candidate.exists():
                for imported in imports_of(candidate, ROOT):
                    assert not _under(imported, "gateway"), f"{name} imports {imported}"
                    if imported.split(".")[0] in ("bws_cli", "bws_proto"):
                        todo.append(imported)
    assert "bws_proto.transcoding.routes" in seen and "bws_proto.transcoding.marshal" in seen


@pytest.mark.parametrize("package, source, expected", [
    ("gateway/core", "import grpc\n", "gateway.core.bad imports grpc"),
    ("gateway/core", "from gateway.infra.auth import Authenticator\n", "gateway.core.bad imports gateway.infra.auth"),
    ("gateway/core", "from ..transport import status\n", "gateway.core.bad imports gateway.transport"),
    ("gateway/engine", "from gateway.core.errors import Unavailable\n", "gateway.engine.bad imports gateway.core"),
    ("gateway/engine", "from redis import exceptions\n", "gateway.engine.bad imports redis"),
    ("bws_cli", "from gateway.transport.rest import mux\n", "bws_cli.bad imports gateway.transport.rest"),
    ("templates_store", "import aiohttp\n", "templates_store.bad imports aiohttp"),
])
def test_a_broken_rule_is_reported(tmp_path, package, source, expected):
    """The check fails on a module that breaks a rule (written under a copy of the package layout)."""
    folder = tmp_path / package
    folder.mkdir(parents=True)
    for parent in [folder, *folder.parents]:
        if parent == tmp_path:
            break
        (parent / "__init__.py").touch()
    (folder / "bad.py").write_text(source)
    (folder / "good.py").write_text("import math\nfrom . import bad\n")
    found = violations(tmp_path)
    assert len(found) == 1 and found[0].startswith(expected), found


def test_engine_imports_within_the_engine_are_allowed(tmp_path):
    folder = tmp_path / "gateway" / "engine"
    folder.mkdir(parents=True)
    (tmp_path / "gateway" / "__init__.py").touch()
    (folder / "__init__.py").touch()
    (folder / "pool.py").write_text("from gateway.engine.types import InvalidImage\nfrom .types import Face\n")
    assert violations(tmp_path) == []
