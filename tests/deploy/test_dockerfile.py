"""The Dockerfile passes hadolint and has what the deployment relies on. (No
container engine runs here: the build itself is documented, not run.)"""
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_hadolint_passes():
    binary = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    result = subprocess.run([binary, "--failure-threshold", "info", str(ROOT / "Dockerfile")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _final_stage() -> str:
    return DOCKERFILE[DOCKERFILE.rindex("\nFROM "):]


def test_multi_stage_slim_non_root_with_healthcheck():
    assert len(re.findall(r"^FROM ", DOCKERFILE, re.M)) >= 2
    final = _final_stage()
    assert re.search(r"^FROM python:3\.11[\w.-]*-slim", final.strip(), re.M)
    user = re.search(r"^USER (\S+)", final, re.M).group(1)
    assert user.split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*healthcheck", final, re.M)
    assert re.search(r"^EXPOSE 50051 8080$", final, re.M)
    assert not re.search(r"gcc|g\+\+|build-essential|apt-get install", final)


def test_every_package_is_copied_and_no_secret_is_set():
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    for package in (p.rstrip("*") for p in packages):
        assert f"COPY {package} ./{package}" in DOCKERFILE, package
    assert not re.search(r"^ENV .*(KEY|SECRET|PASSWORD|TOKEN)", DOCKERFILE, re.M | re.I)
    assert "BWS_CLIENTS_FILE" not in DOCKERFILE and "BWS_KEYS_FILE" not in DOCKERFILE
