from __future__ import annotations

import secrets

import pytest

from gateway.core.recognition import FaceRecognition
from gateway.core.tenancy import Client
from gateway.settings import Settings
from templates_store import PartitionId, SearchIndex
from templates_store.sync import IndexSync
from tests.gateway.core.fakes import FakeEngine, FakeStore

ACME = Client("acme-app", secrets.token_bytes(32), PartitionId("acme", 1))
GLOBEX = Client("globex-app", secrets.token_bytes(32), PartitionId("globex", 1))


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def recognition(settings, engine, store) -> FaceRecognition:
    return FaceRecognition(settings, engine, store, IndexSync(store, SearchIndex(), engine.encoder.version))
