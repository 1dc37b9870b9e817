import pytest

from templates_store.bcid import Bcid, PartitionId
from templates_store.buckets import LEGACY, Layout


def test_bcid_text_and_the_keys_of_its_bucket():
    bcid = Bcid.parse("bioid/9876/12345")
    assert str(bcid) == "bioid/9876/12345"
    (legacy,) = Layout(bcid.partition, LEGACY).all  # the single-slot layout keeps the old key names
    assert legacy.template_key(12345) == "bws:{bioid/9876}:tpl:12345"
    assert legacy.classes_key == "bws:{bioid/9876}:classes" and legacy.tag_key("vip") == "bws:{bioid/9876}:tag:vip"
    bucket = Layout(bcid.partition, 24).bucket_of(bcid.class_id)
    assert bucket.template_key(12345) == f"bws:{{{bucket.tag}}}:tpl:12345" and bucket.tag.startswith("bioid/9876#")


@pytest.mark.parametrize("text", ["bioid/1/0", "bioid/1/-4", "bioid/x/1", "bi{o}d/1/1", "/1/1", "bioid/1/abc",
                                  "bioid/1/9223372036854775808"])
def test_invalid_bcids_are_refused(text):
    with pytest.raises(ValueError):
        Bcid.parse(text)


def test_storage_names_cannot_break_key_layout():
    with pytest.raises(ValueError):
        PartitionId("a:b}", 1)


def test_a_partition_bcid_has_class_0():
    assert PartitionId.parse_bcid("bioid/9876/0") == PartitionId("bioid", 9876)
    for text in ("bioid/9876/1", "bioid/9876/00", "bioid/9876", "bioid/x/0", "bi{o}d/1/0", "/1/0"):
        with pytest.raises(ValueError):
            PartitionId.parse_bcid(text)
