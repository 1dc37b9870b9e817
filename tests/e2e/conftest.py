import pytest

from tests.e2e.helpers import Caller


@pytest.fixture(scope="module")
def channel(service):
    with service.channel() as channel:
        yield channel


@pytest.fixture(scope="module")
def a(service, channel) -> Caller:
    """Calls as tenant-a (storage acme, partition 1)."""
    return Caller(channel, service.clients["tenant-a"])
