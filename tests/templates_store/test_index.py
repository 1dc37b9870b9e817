import numpy as np

from templates_store.index import PartitionIndex, SearchIndex, quantize
from templates_store.bcid import PartitionId
from templates_store.templates import normalize


def _vectors(n, seed=1):
    return normalize(np.random.default_rng(seed).standard_normal((n, 128)).astype(np.float32))


def test_quantisation_error_is_small():
    vectors = _vectors(200)
    codes, scales = quantize(vectors)
    restored = codes.astype(np.float32) * scales[:, None]
    assert np.abs((restored * vectors).sum(axis=1) - 1).max() < 2e-3


def test_search_ranks_like_exact_cosine():
    vectors = _vectors(5000)
    index = PartitionIndex()
    index.bulk_load(np.arange(1, 5001, dtype=np.int64), vectors, [frozenset()] * 5000)
    queries = normalize(vectors[[10, 20]] + 0.05 * _vectors(2, seed=9))
    results = index.search(queries, k=5)
    for query, matches in zip(queries, results):
        exact = np.argsort(-(vectors @ query))[:5] + 1
        assert [m.class_id for m in matches][:3] == list(exact[:3])
        assert all(a.similarity >= b.similarity for a, b in zip(matches, matches[1:]))


def test_tags_filter_requires_all_tags():
    vectors = _vectors(6)
    index = PartitionIndex()
    tags = [frozenset({"a"}), frozenset({"a", "b"}), frozenset({"b"}), frozenset(), frozenset({"a", "b", "c"}),
            frozenset({"c"})]
    index.bulk_load(np.arange(1, 7, dtype=np.int64), vectors, tags)
    found = {m.class_id for m in index.search(vectors[0], k=10, required_tags=frozenset({"a", "b"}))[0]}
    assert found == {2, 5}
    assert index.search(vectors[0], k=10, required_tags=frozenset({"zzz"}))[0] == []


def test_upsert_replaces_and_remove_keeps_the_rest_searchable():
    vectors = _vectors(50)
    index = PartitionIndex()
    index.upsert_many(list(range(1, 51)), vectors, [frozenset()] * 50)
    assert len(index) == 50
    index.upsert_many([7], vectors[30][None, :], [frozenset({"x"})])
    assert len(index) == 50
    top = index.search(vectors[30], k=2)[0]
    assert {m.class_id for m in top} == {7, 31}
    assert index.remove(31) and not index.remove(31)
    assert len(index) == 49
    for i in (1, 25, 50):
        assert index.search(vectors[i - 1], k=1)[0][0].class_id == i
    assert index.search(vectors[6], k=1, required_tags=frozenset({"x"}))[0][0].class_id == 7


def test_min_similarity_and_empty_partition():
    index = PartitionIndex()
    assert index.search(_vectors(1), k=3) == [[]]
    index.upsert_many([1, 2], _vectors(2), [frozenset(), frozenset()])
    assert index.search(_vectors(1, seed=5), k=3, min_similarity=0.99) == [[]]


def test_index_memory_per_template_is_small():
    index = PartitionIndex()
    index.bulk_load(np.arange(1, 100_001, dtype=np.int64), _vectors(100_000), [frozenset({"t"})] * 100_000)
    assert index.nbytes / 100_000 < 300


def test_partitions_are_separate():
    indexes = SearchIndex()
    a, b = PartitionId("acme", 1), PartitionId("acme", 2)
    indexes.partition(a).upsert_many([1], _vectors(1), [frozenset()])
    assert indexes.partition(b).search(_vectors(1), k=5) == [[]]
    assert indexes.sizes() == {a: 1, b: 0}


def test_random_upserts_removals_and_bucket_removal_keep_rows_consistent():
    rng = np.random.default_rng(4)
    vectors = _vectors(400, seed=4)
    index, model = PartitionIndex(), {}
    index.bulk_load(np.arange(1, 101, dtype=np.int64), vectors[:100], [frozenset()] * 100)
    model.update({c: c - 1 for c in range(1, 101)})
    for _ in range(600):
        class_id = int(rng.integers(1, 200))
        if rng.random() < 0.4:
            assert index.remove(class_id) == (model.pop(class_id, None) is not None)
        else:
            row = int(rng.integers(0, 400))
            index.upsert_many([class_id], vectors[row][None, :], [frozenset()])
            model[class_id] = row
    odd = index.class_ids() % 2 == 1
    assert index.remove_where(odd) == sum(1 for c in model if c % 2 == 1)
    model = {c: r for c, r in model.items() if c % 2 == 0}
    assert len(index) == len(model) and sorted(index.class_ids().tolist()) == sorted(model)
    for class_id, row in model.items():
        best = index.search(vectors[row], k=len(model))[0]
        assert best[0].similarity > 0.99 and class_id in {m.class_id for m in best if m.similarity > 0.99}
    assert not index.remove(1) and index.remove(next(iter(model)))
