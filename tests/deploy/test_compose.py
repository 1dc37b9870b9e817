"""docker-compose.yml: the gateway and a real Redis with persistence, configured only with settings that exist.
(No container engine runs here: the file is parsed and checked against the code, not started.)"""
import re
import tomllib
from dataclasses import fields
from pathlib import Path

import yaml

from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(TEXT)
SETTINGS = {f"BWS_{f.name.upper()}" for f in fields(Settings) if f.name != "version"}


def test_services_and_volumes():
    services = COMPOSE["services"]
    assert set(services) == {"gateway", "redis"}
    assert re.fullmatch(r"redis:\d+(\.\d+)*-alpine", services["redis"]["image"])  # pinned, not :latest
    assert set(COMPOSE["volumes"]) == {"redis-data", "gateway-data"}
    assert "redis-data:/data" in services["redis"]["volumes"] and "gateway-data:/data" in services["gateway"]["volumes"]
    assert "ports" not in services["redis"]  # Redis is reachable from the gateway only


def test_redis_persists_its_data():
    command = COMPOSE["services"]["redis"]["command"]
    assert command[0] == "redis-server"
    options = dict(zip(command[1::2], command[2::2]))
    assert options["--appendonly"] == "yes" and options["--dir"] == "/data"


def test_redis_evicts_only_keys_with_a_ttl():
    """Templates carry no TTL: a volatile-* policy can never evict them (allkeys-* would)."""
    command = COMPOSE["services"]["redis"]["command"]
    options = dict(zip(command[1::2], command[2::2]))
    assert options["--maxmemory-policy"] in ("volatile-ttl", "volatile-lru", "volatile-lfu")
    assert re.fullmatch(r"\d+[kmg]b", options["--maxmemory"])


def test_gateway_environment_is_settings_that_exist_and_load():
    gateway = COMPOSE["services"]["gateway"]
    env = {k: str(v) for k, v in gateway["environment"].items()}
    assert set(env) <= SETTINGS, set(env) - SETTINGS
    commented = set(re.findall(r"#\s*(BWS_[A-Z_]+):", TEXT))
    assert commented and commented <= SETTINGS
    settings = Settings.from_env(env)
    assert settings.redis_url == "redis://redis:6379/0" and settings.data_dir == Path("/data")
    assert gateway["depends_on"]["redis"]["condition"] == "service_healthy"
    assert int(gateway["stop_grace_period"].rstrip("s")) > settings.grace_seconds


def test_gateway_ports_match_the_settings_and_the_image():
    gateway = COMPOSE["services"]["gateway"]
    settings = Settings.from_env({k: str(v) for k, v in gateway["environment"].items()})
    published = {int(p.split(":")[1]) for p in gateway["ports"]}
    assert published == {settings.grpc_port, settings.http_port}
    exposed = re.search(r"^EXPOSE (.+)$", (ROOT / "Dockerfile").read_text(), re.M).group(1).split()
    assert published == {int(p) for p in exposed}


def test_image_is_built_here_with_the_package_version():
    gateway = COMPOSE["services"]["gateway"]
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert gateway["build"] == "." and (ROOT / "Dockerfile").exists()
    assert gateway["image"] == f"bws-gateway:{version}"
