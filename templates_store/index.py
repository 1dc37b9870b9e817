"""The in-memory search index: one dense int8 matrix per partition.

Each template is its compact vector quantised to int8 with one float32 scale
(about 144 bytes a template with its classId and tag-set id). Scoring upcasts
cache-sized chunks to float32 and hands them to BLAS, so a search over a
million templates is one pass over 128 MB. Tags are interned as tag *sets*:
a filter checks the few distinct sets, then selects rows with np.isin.
A dict from classId to row makes upserts and removals O(1).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from templates_store.bcid import PartitionId
from templates_store.templates import DESCRIPTOR_SIZE

_CHUNK_ROWS = 16_384
_INITIAL_CAPACITY = 1024


@dataclass(frozen=True)
class Match:
    class_id: int
    similarity: float  # cosine similarity of unit vectors, in [-1, 1]


def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    vectors = np.asarray(vectors, np.float32).reshape(-1, DESCRIPTOR_SIZE)
    scales = np.maximum(np.abs(vectors).max(axis=1), 1e-12) / 127.0
    codes = np.clip(np.rint(vectors / scales[:, None]), -127, 127).astype(np.int8)
    return codes, scales.astype(np.float32)


class PartitionIndex:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._size = 0
        self._codes = np.empty((_INITIAL_CAPACITY, DESCRIPTOR_SIZE), np.int8)
        self._scales = np.empty(_INITIAL_CAPACITY, np.float32)
        self._class_ids = np.empty(_INITIAL_CAPACITY, np.int64)
        self._tag_set_ids = np.empty(_INITIAL_CAPACITY, np.uint32)
        self._tag_sets: list[frozenset[str]] = []
        self._tag_set_numbers: dict[frozenset[str], int] = {}
        self._rows: dict[int, int] = {}  # classId -> row

    def __len__(self) -> int:
        return self._size

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self._codes, self._scales, self._class_ids, self._tag_set_ids))

    def _tag_set_number(self, tags: frozenset[str]) -> int:
        number = self._tag_set_numbers.get(tags)
        if number is None:
            number = self._tag_set_numbers[tags] = len(self._tag_sets)
            self._tag_sets.append(tags)
        return number

    def _grow(self, needed: int) -> None:
        capacity = len(self._class_ids)
        if needed <= capacity:
            return
        while capacity < needed:
            capacity *= 2
        for name in ("_codes", "_scales", "_class_ids", "_tag_set_ids"):
            old = getattr(self, name)
            new = np.empty((capacity,) + old.shape[1:], old.dtype)
            new[:self._size] = old[:self._size]
            setattr(self, name, new)

    def upsert_many(self, class_ids: list[int], vectors: np.ndarray, tags: list[frozenset[str]]) -> None:
        codes, scales = quantize(vectors)
        with self._lock:
            for i, class_id in enumerate(class_ids):
                row = self._rows.get(class_id)
                if row is None:
                    self._grow(self._size + 1)
                    row = self._rows[class_id] = self._size
                    self._size += 1
                self._codes[row] = codes[i]
                self._scales[row] = scales[i]
                self._class_ids[row] = class_id
                self._tag_set_ids[row] = self._tag_set_number(tags[i])

    def bulk_load(self, class_ids: np.ndarray, vectors: np.ndarray, tags: list[frozenset[str]]) -> None:
        """Appends templates known to be absent (the initial load)."""
        self._append(np.asarray(class_ids, np.int64), *quantize(vectors), tags)

    def merge(self, other: "PartitionIndex") -> None:
        """Appends another index's templates, known to be absent from this one."""
        with other._lock:
            n = other._size
            rows = (other._class_ids[:n].copy(), other._codes[:n].copy(), other._scales[:n].copy(),
                    [other._tag_sets[i] for i in other._tag_set_ids[:n]])
        self._append(*rows)

    def _append(self, class_ids: np.ndarray, codes: np.ndarray, scales: np.ndarray,
                tags: list[frozenset[str]]) -> None:
        with self._lock:
            start = self._size
            self._grow(start + len(class_ids))
            end = start + len(class_ids)
            self._codes[start:end] = codes
            self._scales[start:end] = scales
            self._class_ids[start:end] = class_ids
            self._tag_set_ids[start:end] = [self._tag_set_number(t) for t in tags]
            self._rows.update(zip(np.asarray(class_ids).tolist(), range(start, end)))
            self._size = end

    def class_ids(self) -> np.ndarray:
        with self._lock:
            return self._class_ids[:self._size].copy()

    def remove_where(self, mask: np.ndarray) -> int:
        """Removes the rows the boolean mask (over class_ids()) selects, at once."""
        with self._lock:
            keep = np.flatnonzero(~np.asarray(mask[:self._size], bool))
            removed = self._size - len(keep)
            if removed:
                for name in ("_codes", "_scales", "_class_ids", "_tag_set_ids"):
                    array = getattr(self, name)
                    array[:len(keep)] = array[keep]
                self._size = len(keep)
                self._rows = dict(zip(self._class_ids[:self._size].tolist(), range(self._size)))
            return removed

    def remove(self, class_id: int) -> bool:
        with self._lock:
            row = self._rows.pop(class_id, None)
            if row is None:
                return False
            last = self._size - 1
            if row != last:
                for array in (self._codes, self._scales, self._class_ids, self._tag_set_ids):
                    array[row] = array[last]
                self._rows[int(self._class_ids[row])] = row
            self._size = last
            return True

    def search(self, queries: np.ndarray, k: int, required_tags: frozenset[str] = frozenset(),
               min_similarity: float = -1.0) -> list[list[Match]]:
        """The k most similar templates to each unit query vector, best first,
        restricted to templates holding all required tags."""
        queries = np.asarray(queries, np.float32).reshape(-1, DESCRIPTOR_SIZE)
        nothing: list[list[Match]] = [[] for _ in queries]
        with self._lock:
            n = self._size
            if n == 0 or k <= 0:
                return nothing
            rows = None
            if required_tags:
                allowed = [i for i, tag_set in enumerate(self._tag_sets) if required_tags <= tag_set]
                rows = np.flatnonzero(np.isin(self._tag_set_ids[:n], allowed)) if allowed else rows
                if rows is None or len(rows) == 0:
                    return nothing
            scores = self._score(queries.T, n, rows)
            class_ids = self._class_ids[:n].copy() if rows is None else self._class_ids[rows]
        return [_best(column, class_ids, k, min_similarity) for column in scores.T]

    def _score(self, query_columns: np.ndarray, n: int, rows: np.ndarray | None) -> np.ndarray:
        """Similarities of all n rows, or of the given rows only, to each query column."""
        count = n if rows is None else len(rows)
        scores = np.empty((count, query_columns.shape[1]), np.float32)
        buffer = np.empty((min(_CHUNK_ROWS, count), DESCRIPTOR_SIZE), np.float32)
        for start in range(0, count, _CHUNK_ROWS):
            end = min(start + _CHUNK_ROWS, count)
            chunk = buffer[:end - start]
            chunk[...] = self._codes[start:end] if rows is None else self._codes[rows[start:end]]
            np.dot(chunk, query_columns, out=scores[start:end])
        scores *= (self._scales[:n] if rows is None else self._scales[rows])[:, None]
        return scores


def _best(scores: np.ndarray, class_ids: np.ndarray, k: int, min_similarity: float) -> list[Match]:
    k = min(k, len(scores))
    top = np.argpartition(scores, -k)[-k:] if k < len(scores) else np.arange(len(scores))
    top = top[np.argsort(-scores[top], kind="stable")]
    keep = top[scores[top] >= min_similarity]
    return [Match(int(class_ids[i]), float(scores[i])) for i in keep]


class SearchIndex:
    """All partitions' indexes of this process."""

    def __init__(self) -> None:
        self._partitions: dict[PartitionId, PartitionIndex] = {}
        self._lock = threading.Lock()

    def partition(self, partition: PartitionId) -> PartitionIndex:
        with self._lock:
            index = self._partitions.get(partition)
            if index is None:
                index = self._partitions[partition] = PartitionIndex()
            return index

    def replace(self, partition: PartitionId, index: PartitionIndex) -> None:
        with self._lock:
            self._partitions[partition] = index

    def sizes(self) -> dict[PartitionId, int]:
        with self._lock:
            return {p: len(i) for p, i in self._partitions.items()}
