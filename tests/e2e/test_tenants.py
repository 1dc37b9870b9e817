"""No client ever reaches another tenant's templates; operations can be limited."""
import grpc
import pytest

from tests.e2e.helpers import Caller, new_class_id


@pytest.fixture(scope="module")
def callers(service):
    with service.channel() as channel:
        yield {name: Caller(channel, client) for name, client in service.clients.items()}


@pytest.fixture(scope="module")
def enrolled(callers):
    class_id = new_class_id()
    callers["tenant-a"].enroll(class_id, "obama_1.jpg")
    callers["tenant-a"].set_tags(class_id, "secret-tag")
    return class_id


def _code(call):
    with pytest.raises(grpc.RpcError) as error:
        call()
    return error.value.code()


@pytest.mark.parametrize("tenant", ["tenant-b", "tenant-a-encrypted"])
def test_other_partitions_cannot_see_match_count_or_delete(callers, enrolled, tenant):
    other = callers[tenant]
    assert not other.status(enrolled).available
    assert _code(lambda: other.verify(enrolled, "obama_2.jpg")) == grpc.StatusCode.NOT_FOUND
    assert all(m.classId != enrolled for m in other.search("obama_2.jpg", top=True).result[0].matches)
    assert other.count("secret-tag") == 0
    assert _code(lambda: other.set_tags(enrolled, "mine")) == grpc.StatusCode.NOT_FOUND
    assert _code(lambda: other.delete(enrolled)) == grpc.StatusCode.NOT_FOUND
    assert callers["tenant-a"].status(enrolled).available  # untouched
    assert list(callers["tenant-a"].status(enrolled).tags) == ["secret-tag"]


def test_same_class_id_in_two_tenants_are_two_templates(callers):
    class_id = new_class_id()
    callers["tenant-a"].enroll(class_id, "obama_1.jpg")
    callers["tenant-b"].enroll(class_id, "biden_1.jpg")
    assert callers["tenant-a"].verify(class_id, "obama_2.jpg").verified
    assert callers["tenant-b"].verify(class_id, "biden_2.jpg").verified
    assert not callers["tenant-b"].verify(class_id, "obama_2.jpg").verified


def test_limited_client_gets_permission_denied(callers, enrolled):
    readonly = callers["tenant-a-readonly"]
    assert readonly.verify(enrolled, "obama_2.jpg").verified
    assert readonly.status(enrolled).available and readonly.count() >= 1
    for call in (lambda: readonly.enroll(new_class_id(), "obama_1.jpg"), lambda: readonly.delete(enrolled),
                 lambda: readonly.search("obama_2.jpg"), lambda: readonly.set_tags(enrolled, "x")):
        assert _code(call) == grpc.StatusCode.PERMISSION_DENIED
    assert callers["tenant-a"].status(enrolled).available
