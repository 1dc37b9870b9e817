import pytest

from gateway.engine import FaceEngine


@pytest.fixture(scope="session")
def engine() -> FaceEngine:
    return FaceEngine()
