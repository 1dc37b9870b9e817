from pathlib import Path

import pytest

from gateway.config import Settings


def test_defaults():
    settings = Settings.from_env({})
    assert settings.grpc_port == 50051 and settings.http_port == 8080 and settings.redis_url is None
    assert settings.data_dir == Path("data") and settings.verify_threshold == 0.5


def test_environment_overrides_with_types():
    settings = Settings.from_env({"BWS_GRPC_PORT": "6000", "BWS_VERIFY_THRESHOLD": "0.7",
                                  "BWS_CLIENTS_FILE": "/etc/bws/clients.json", "BWS_REDIS_URL": "redis://r:6379/0"})
    assert settings.grpc_port == 6000 and settings.verify_threshold == 0.7
    assert settings.clients_file == Path("/etc/bws/clients.json") and settings.redis_url == "redis://r:6379/0"


@pytest.mark.parametrize("env, message", [({"BWS_GRPC_PORT": "x"}, "BWS_GRPC_PORT"),
                                          ({"BWS_VERIFY_THRESHOLD": "1.5"}, "BWS_VERIFY_THRESHOLD"),
                                          ({"BWS_PARTITION_BUCKETS": "0"}, "BWS_PARTITION_BUCKETS")])
def test_bad_values_name_the_variable(env, message):
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)
