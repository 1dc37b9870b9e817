"""Found in review: DeleteTemplate with Redis at its maxmemory (noeviction) deleted the template but the change
record (INCR + XADD, refused for lack of memory) was not written, so every other replica kept the deleted
template in its search index: a ghost. A delete is now one script that frees before it records, which Redis lets
finish when full (a script's writes after its first one are not refused), so the template and its change record go
together; a delete frees memory, so it works on a full store, and nothing else is lost."""
from __future__ import annotations

import redis

from tests.e2e.helpers import Caller, new_class_id, template_key
from tests.security.test_redis_full import full_redis  # noqa: F401 - the fixture: a Redis of each kind, a service


def last_change(raw: redis.Redis, key: str) -> dict:
    changes_key = key.rsplit(":tpl:", 1)[0] + ":changes"
    ((_, change),) = raw.xrevrange(changes_key, count=1)
    return {k.decode(): v.decode() for k, v in change.items()}


def test_delete_on_a_full_redis_records_its_change(full_redis):  # noqa: F811
    server, service = full_redis
    raw = redis.Redis.from_url(server.url)
    gone, kept = new_class_id(), new_class_id()
    with service.channel() as channel:
        a = Caller(channel, service.clients["tenant-a"])
        a.enroll(gone, "biden_2.jpg")
        a.set_tags(gone, "blue", "green")
        a.enroll(kept, "obama_1.jpg")
        key = template_key(raw, "acme/1", gone).decode()
        raw.config_set("maxmemory-policy", "noeviction")
        raw.config_set("maxmemory", 1)
        try:
            a.delete(gone)
        finally:
            raw.config_set("maxmemory", 0)
        assert not raw.exists(key)
        assert not raw.sismember(key.rsplit(":tpl:", 1)[0] + ":classes", gone)
        assert not raw.sismember(key.rsplit(":tpl:", 1)[0] + ":tag:blue", gone)
        change = last_change(raw, key)  # what other replicas' indexes follow
        assert change["op"] == "delete" and change["class"] == str(gone), change
        assert not a.status(gone).available
        assert a.status(kept).feature_vectors == 1 and a.verify(kept, "obama_2.jpg").verified
    raw.close()
