import pytest

from templates_store.bcid import Bcid, PartitionId


def test_bcid_text_and_keys_share_the_partition_hash_tag():
    bcid = Bcid.parse("bioid/9876/12345")
    assert str(bcid) == "bioid/9876/12345"
    assert bcid.key == "bws:{bioid/9876}:tpl:12345"
    assert bcid.partition.classes_key == "bws:{bioid/9876}:classes"
    assert bcid.partition.tag_key("vip") == "bws:{bioid/9876}:tag:vip"


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
