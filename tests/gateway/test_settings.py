from pathlib import Path

import pytest

from gateway.settings import Settings


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
                                          ({"BWS_PAD": "maybe"}, "BWS_PAD"),
                                          ({"BWS_MULTIPLE_FACES": "largest"}, "BWS_MULTIPLE_FACES"),
                                          ({"BWS_PARTITION_BUCKETS": "0"}, "BWS_PARTITION_BUCKETS"),
                                          ({"BWS_ENGINE_JOB_SECONDS": "0"}, "BWS_ENGINE_JOB_SECONDS"),
                                          ({"BWS_ENGINE_VIDEO_JOB_SECONDS": "-1"}, "BWS_ENGINE_VIDEO_JOB_SECONDS"),
                                          ({"BWS_MAX_JPEG_SCANS": "0"}, "BWS_MAX_JPEG_SCANS")])
def test_bad_values_name_the_variable(env, message):
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


def test_security_settings():
    settings = Settings.from_env({"BWS_METRICS_PORT": "9464", "BWS_METRICS_TOKEN": "t" * 16})
    assert settings.metrics_port == 9464 and "t" * 16 not in repr(settings)
    assert settings.max_token_lifetime_seconds == 24 * 3600 and Settings.from_env({}).metrics_port is None
    assert settings.max_extension_token_lifetime_seconds == 3600
    for env, message in [({"BWS_EXTENSION_TOKEN_SECONDS": "7200"}, "BWS_MAX_EXTENSION_TOKEN_LIFETIME_SECONDS"),
                         ({"BWS_METRICS_TOKEN": "short"}, "BWS_METRICS_TOKEN"),
                         ({"BWS_MAX_BODY_BYTES_IN_FLIGHT": "0"}, "BWS_MAX_BODY_BYTES_IN_FLIGHT")]:
        with pytest.raises(ValueError, match=message):
            Settings.from_env(env)


@pytest.mark.parametrize("raw, expected", [("1", True), ("true", True), ("on", True), ("0", False), ("no", False)])
def test_flags(raw, expected):
    assert Settings.from_env({"BWS_DEMO": raw}).demo is expected
    assert Settings.from_env({}).demo is False


def test_bad_flag_names_the_variable():
    with pytest.raises(ValueError, match="BWS_DEMO='maybe' is not a valid bool"):
        Settings.from_env({"BWS_DEMO": "maybe"})


def test_cors_origins_are_a_set_without_trailing_slashes():
    settings = Settings.from_env({"BWS_CORS_ORIGINS": " https://a.example/ ,http://localhost:3000,, "})
    assert settings.allowed_origins == {"https://a.example", "http://localhost:3000"}
    assert Settings.from_env({}).allowed_origins == frozenset()


def test_passive_liveness_is_on_by_default_with_the_bundled_model():
    from gateway.app import engine_options

    pad = engine_options(Settings.from_env({})).pad
    assert pad.model_path is None and pad.models == ("minifasnet", "suri") and pad.fusion == "mean"
    assert pad.threshold == 0.5
    assert engine_options(Settings.from_env({"BWS_PAD": "off"})).pad is None
    with pytest.raises(ValueError, match="BWS_PAD_MODEL"):
        engine_options(Settings.from_env({"BWS_PAD_MODEL": "/nonexistent.onnx"}))


def test_a_deployment_chooses_the_passive_models_fusion_and_threshold():
    from gateway.app import engine_options

    pad = engine_options(Settings.from_env({"BWS_PAD_MODELS": " minifasnet ", "BWS_PAD_FUSION": "min",
                                            "BWS_PAD_THRESHOLD": "0.6"})).pad
    assert pad.models == ("minifasnet",) and pad.fusion == "min" and pad.threshold == 0.6
    with pytest.raises(ValueError, match="BWS_PAD_MODELS.*deepfake not among minifasnet, suri"):
        engine_options(Settings.from_env({"BWS_PAD_MODELS": "minifasnet,deepfake"}))
    with pytest.raises(ValueError, match="BWS_PAD_FUSION.*'vote' not among mean, min, geometric"):
        engine_options(Settings.from_env({"BWS_PAD_FUSION": "vote"}))
    with pytest.raises(ValueError, match="BWS_PAD_THRESHOLD must lie strictly between 0 and 1"):
        Settings.from_env({"BWS_PAD_THRESHOLD": "1"})


def test_multiple_faces_refuses_by_default_and_reaches_the_engine():
    from gateway.app import engine_options

    assert engine_options(Settings.from_env({})).multiple_faces == "refuse"
    assert engine_options(Settings.from_env({"BWS_MULTIPLE_FACES": "primary"})).multiple_faces == "primary"
