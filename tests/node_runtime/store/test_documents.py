"""Whole-document reads and writes (get_document / set_document) on every backend."""

from __future__ import annotations

from typing import Any

import pytest

from node_runtime.store import DocumentStore, StoreError

PATIENT: dict[str, Any] = {
    "name": "Ann",
    "age": 30,
    "weight": 61.5,
    "active": True,
    "tags": ["a", "b", "c"],
    "visits": [{"date": "2024-01-02", "notes": ["x"]}, {"date": "2024-03-04"}],
    "address": {"line": ["1 High St", ""], "zip": "01234"},
}


def test_set_then_get_document_round_trips_with_arrays(store: DocumentStore) -> None:
    """A nested dict/list document written with set_document reads back equal with use_arrays."""
    store["patients"][42].set_document(PATIENT)
    assert store["patients"][42].get_document(use_arrays=True) == PATIENT


def test_lists_are_stored_under_integer_subscripts_from_zero(store: DocumentStore) -> None:
    """Without use_arrays a list comes back as a dict keyed 0..n-1, and nodes hold items."""
    store["d"].set_document({"tags": ["a", "b"]})
    assert store["d"]["tags"].child_keys() == [0, 1]
    assert store["d"]["tags"][1].value == "b"
    assert store["d"].get_document() == {"tags": {0: "a", 1: "b"}}


def test_only_contiguous_integer_keys_from_zero_become_lists(store: DocumentStore) -> None:
    """Children 0..n-1 become a list; gaps, other starts or string keys stay a dict."""
    store["d"].set_document({"gap": {0: "a", 2: "c"}, "one": {1: "x"}, "mixed": {0: 1, "k": 2}})
    assert store["d"].get_document(use_arrays=True) == {
        "gap": {0: "a", 2: "c"},
        "mixed": {0: 1, "k": 2},
        "one": {1: "x"},
    }


def test_get_document_of_a_leaf_is_its_value_and_of_nothing_is_empty(
    store: DocumentStore,
) -> None:
    """A node with only a value returns the value; a node that does not exist returns {}."""
    store["d"]["leaf"].value = 7
    assert store["d"]["leaf"].get_document() == 7
    assert store["d"]["missing"].get_document() == {}


def test_get_document_ignores_the_value_of_an_intermediate_node(store: DocumentStore) -> None:
    """A node with a value and children yields its children only (as QEWD does)."""
    store["d"].value = "root value"
    store["d"]["a"].value = "a value"
    store["d"]["a"]["b"].value = "b value"
    assert store["d"].get_document() == {"a": {"b": "b value"}}


def test_get_document_keys_keep_collation_order_and_number_types(store: DocumentStore) -> None:
    """Dict keys come in collation order; numeric keys (even given as strings) are numbers."""
    store["d"].set_document({"b": 1, "10": 2, "a": 3, "9": 4, "-1.5": 5})
    document = store["d"].get_document()
    assert isinstance(document, dict)
    assert list(document) == [-1.5, 9, 10, "a", "b"]


def test_set_document_merges_into_existing_data(store: DocumentStore) -> None:
    """set_document adds and overwrites values but does not delete other nodes."""
    store["d"].set_document({"keep": 1, "change": 2})
    store["d"].set_document({"change": 3, "new": {"x": 4}})
    assert store["d"].get_document() == {"change": 3, "keep": 1, "new": {"x": 4}}


def test_set_document_with_none_deletes_that_value(store: DocumentStore) -> None:
    """A None inside the document removes the value at that path."""
    store["d"].set_document({"a": 1, "b": 2})
    store["d"].set_document({"a": None})
    assert store["d"].get_document() == {"b": 2}


def test_set_document_of_a_scalar_sets_the_node_value(store: DocumentStore) -> None:
    """A scalar document is the node's own value."""
    store["d"]["x"].set_document("hello")
    assert store["d"]["x"].value == "hello"


def test_set_document_is_all_or_nothing(store: DocumentStore) -> None:
    """A bad value or key anywhere in the document writes nothing at all."""
    with pytest.raises(StoreError, match=r"\^d\(\"b\",1\)"):
        store["d"].set_document({"a": 1, "b": [2, b"bytes"], "c": 3})
    with pytest.raises(StoreError):
        store["d"].set_document({"a": 1, "": 2})
    assert not store["d"].exists


def test_large_document_round_trips(store: DocumentStore) -> None:
    """A document with a few thousand nodes is written in one batch and read back whole."""
    document = {str(i): {"n": i, "s": f"item {i}", "f": i / 4} for i in range(1500)}
    store["big"].set_document(document)
    expected = {int(k): v for k, v in document.items()}
    assert store["big"].get_document() == expected
    assert store["big"].count_children() == 1500
