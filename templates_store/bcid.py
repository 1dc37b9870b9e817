"""Biometric Class IDs (storage/partition/classId); their Redis keys: templates_store/buckets.py."""
from __future__ import annotations

import re
from dataclasses import dataclass

_STORAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_CLASS_ID = 2**63 - 1


@dataclass(frozen=True, order=True)
class PartitionId:
    """A tenant's share of the store (its keys spread over buckets: templates_store/buckets.py)."""

    storage: str
    partition: int

    def __post_init__(self) -> None:
        if not _STORAGE_NAME.match(self.storage):
            raise ValueError(f"invalid storage name {self.storage!r}: letters, digits, '.', '_' and '-' only")
        if not 0 <= self.partition <= MAX_CLASS_ID:
            raise ValueError(f"invalid partition number {self.partition}")

    def __str__(self) -> str:
        return f"{self.storage}/{self.partition}"

    @classmethod
    def parse(cls, text: str) -> "PartitionId":
        storage, _, partition = text.rpartition("/")
        return cls(storage, int(partition))

    @classmethod
    def parse_bcid(cls, text: str) -> "PartitionId":
        """The partition a BCID with class 0 (`storage/partition/0`) addresses, as BWS identify tokens name it."""
        head, _, class_id = text.rpartition("/")
        try:
            if class_id != "0":
                raise ValueError("class 0")
            return cls.parse(head)
        except ValueError as exc:
            raise ValueError(f"invalid partition BCID {text!r}: expected storage/partition/0") from exc


@dataclass(frozen=True, order=True)
class Bcid:
    partition: PartitionId
    class_id: int

    def __post_init__(self) -> None:
        if not 0 < self.class_id <= MAX_CLASS_ID:
            raise ValueError(f"classId must be a positive 64-bit number, got {self.class_id}")

    def __str__(self) -> str:
        return f"{self.partition}/{self.class_id}"

    @classmethod
    def parse(cls, text: str) -> "Bcid":
        head, _, class_id = text.rpartition("/")
        try:
            return cls(PartitionId.parse(head), int(class_id))
        except ValueError as exc:
            raise ValueError(f"invalid BCID {text!r}: expected storage/partition/classId") from exc
