"""DocumentNode: QEWD's handle on one node of a persistent, M-collated document tree.

This module owns the node API handlers use (value, $DATA, children in collation
order, siblings, delete, increment, lock, whole-document get/set) on top of the small
``Backend`` contract. A node is a cheap, stateless handle: creating one reads nothing,
and every property asks the store afresh, so other processes' writes are always seen.
It must not know SQL or Redis: all storage goes through the ``Backend`` primitives.

Choices where QEWD or M leave room:

* ``get_document`` of a node that has children returns only the children (a dict, or a
  list with ``use_arrays``): the value of an intermediate node is ignored, as in QEWD.
  A node with only a value returns that value; a node that does not exist returns {}.
  Dict keys are subscripts as stored: numbers come back as int/float.
* ``set_document`` merges into what is there (like QEWD): it does not delete first.
  Lists are written under integer subscripts from 0; ``None`` deletes a value.
* ``children(prefix=...)`` matches string keys only; ``start``/``end`` bound the keys
  inclusively in collation order, whatever the direction.
* Siblings of a document node are the neighbouring documents.
* ``children()`` is lazy and not a snapshot: each step seeks past the previous child,
  so deleting or adding children while iterating is safe (as with M's $ORDER).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from node_runtime.store import collation
from node_runtime.store.backend import Backend
from node_runtime.store.collation import SUBTREE_END, Subscript
from node_runtime.store.errors import StoreError
from node_runtime.store.locking import DEFAULT_LEASE, DEFAULT_TIMEOUT, NodeLock
from node_runtime.store.values import Number, Scalar, check_increment, dump_value, load_value

Document = dict[Subscript, "Document"] | list["Document"] | Scalar


def child_keys_between(
    backend: Backend, parent: bytes, low: bytes, high: bytes, reverse: bool
) -> Iterator[bytes]:
    """Encoded keys of the children of ``parent`` whose subtrees meet ``[low, high)``.

    Each step is one index seek (a skip scan): find any key in the window, cut it to
    parent + one element, then move the window past (or before) that child's subtree.
    """
    while low < high:
        found = backend.keys(low, high, 1, reverse)
        if not found:
            return
        child = found[0][: collation.element_end(found[0], len(parent))]
        yield child
        if reverse:
            high = child
        else:
            low = child + SUBTREE_END


class DocumentNode:
    """One node: a document name plus a path of subscripts."""

    __slots__ = ("_backend", "_document", "_key", "_parent_length", "_path")

    def __init__(
        self,
        backend: Backend,
        document: str,
        path: tuple[Subscript, ...],
        key: bytes,
        parent_length: int,
    ) -> None:
        self._backend = backend
        self._document = document
        self._path = path
        self._key = key
        self._parent_length = parent_length

    @classmethod
    def document_root(cls, backend: Backend, name: object) -> DocumentNode:
        """The top-level node of document ``name`` (a "global")."""
        if not isinstance(name, str) or not name:
            raise StoreError(f"a document name must be a non-empty str, not {name!r}")
        return cls(backend, name, (), collation.encode_string(name), 0)

    # --- identity -------------------------------------------------------------------

    def __getitem__(self, subscript: object) -> DocumentNode:
        """The child at ``subscript``; a tuple of subscripts walks several levels."""
        if isinstance(subscript, tuple):
            node = self
            for each in subscript:
                node = node[each]
            return node
        value = collation.normalize(subscript)
        return DocumentNode(
            self._backend,
            self._document,
            (*self._path, value),
            self._key + collation.encode_normalized(value),
            len(self._key),
        )

    @property
    def document_name(self) -> str:
        """The name of the document (global) this node belongs to."""
        return self._document

    @property
    def path(self) -> tuple[Subscript, ...]:
        """The subscripts below the document name."""
        return self._path

    @property
    def key(self) -> Subscript:
        """The last subscript (the document name for a document node)."""
        return self._path[-1] if self._path else self._document

    @property
    def parent(self) -> DocumentNode | None:
        """The node one level up; None for a document node."""
        if not self._path:
            return None
        root = DocumentNode.document_root(self._backend, self._document)
        return root[self._path[:-1]]

    def _node_at(self, key: bytes, parent_length: int) -> DocumentNode:
        """The node for an encoded key found by a scan at this level or below."""
        if parent_length == 0:
            name = collation.decode_element(key)
            assert isinstance(name, str)
            return DocumentNode.document_root(self._backend, name)
        element = collation.decode_element(key[parent_length:])
        path = (*self._path[: self._depth_of(parent_length)], element)
        return DocumentNode(self._backend, self._document, path, key, parent_length)

    def _depth_of(self, parent_length: int) -> int:
        """How many path subscripts the parent at ``parent_length`` has."""
        return len(self._path) if parent_length == len(self._key) else len(self._path) - 1

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DocumentNode):
            return NotImplemented
        return self._backend is other._backend and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __str__(self) -> str:
        if not self._path:
            return f"^{self._document}"
        subscripts = ",".join(f'"{s}"' if isinstance(s, str) else repr(s) for s in self._path)
        return f"^{self._document}({subscripts})"

    def __repr__(self) -> str:
        return f"DocumentNode({self})"

    # --- value and $DATA -----------------------------------------------------------

    @property
    def value(self) -> Scalar | None:
        """The node's own value, or None when it has none."""
        text = self._backend.get(self._key)
        return None if text is None else load_value(text)

    @value.setter
    def value(self, value: Scalar | None) -> None:
        if value is None:
            self._backend.remove(self._key)
        else:
            self._backend.put(self._key, dump_value(value, str(self)))

    @property
    def defined(self) -> int:
        """M $DATA: 0 nothing, 1 value only, 10 children only, 11 both."""
        found = self._backend.keys(self._key, self._key + SUBTREE_END, 2)
        has_value = bool(found) and found[0] == self._key
        has_children = len(found) > int(has_value)
        return int(has_value) + 10 * int(has_children)

    @property
    def exists(self) -> bool:
        """True if the node has a value or any descendant has one."""
        return bool(self._backend.keys(self._key, self._key + SUBTREE_END, 1))

    @property
    def has_value(self) -> bool:
        """True if the node itself holds a value."""
        return self._backend.get(self._key) is not None

    @property
    def has_children(self) -> bool:
        """True if any descendant holds a value."""
        return bool(self._backend.keys(self._key + b"\x00", self._key + SUBTREE_END, 1))

    # --- children and siblings -----------------------------------------------------

    def _child_window(self, prefix: str | None, start: object, end: object) -> tuple[bytes, bytes]:
        low, high = self._key + b"\x00", self._key + SUBTREE_END
        if start is not None:
            low = max(low, self._key + collation.encode_subscript(start))
        if end is not None:
            high = min(high, self._key + collation.encode_subscript(end) + SUBTREE_END)
        if prefix is not None:
            if not isinstance(prefix, str):
                raise StoreError(f"{self}: a prefix must be a str, not {prefix!r}")
            # A string element without its terminator starts every string with that prefix.
            prefix_low = self._key + collation.encode_string(prefix)[:-1]
            low, high = max(low, prefix_low), min(high, prefix_low + SUBTREE_END)
        return low, high

    def children(
        self,
        prefix: str | None = None,
        start: object = None,
        end: object = None,
        reverse: bool = False,
    ) -> Iterator[DocumentNode]:
        """Immediate children in collation order (numbers, then strings), lazily."""
        low, high = self._child_window(prefix, start, end)
        for child in child_keys_between(self._backend, self._key, low, high, reverse):
            yield self._node_at(child, len(self._key))

    def child_keys(
        self,
        prefix: str | None = None,
        start: object = None,
        end: object = None,
        reverse: bool = False,
    ) -> list[Subscript]:
        """The subscripts of ``children(...)`` with the same arguments."""
        low, high = self._child_window(prefix, start, end)
        cut = len(self._key)
        return [
            collation.decode_element(child[cut:])
            for child in child_keys_between(self._backend, self._key, low, high, reverse)
        ]

    def count_children(self) -> int:
        """How many immediate children the node has."""
        low, high = self._child_window(None, None, None)
        return sum(1 for _ in child_keys_between(self._backend, self._key, low, high, False))

    @property
    def first_child(self) -> DocumentNode | None:
        """The first child in collation order, or None."""
        return next(self.children(), None)

    @property
    def last_child(self) -> DocumentNode | None:
        """The last child in collation order, or None."""
        return next(self.children(reverse=True), None)

    def _sibling(self, reverse: bool) -> DocumentNode | None:
        parent = self._key[: self._parent_length]
        if reverse:
            low, high = parent + b"\x00", self._key
        else:
            low, high = self._key + SUBTREE_END, parent + SUBTREE_END
        found = next(child_keys_between(self._backend, parent, low, high, reverse), None)
        return None if found is None else self._node_at(found, self._parent_length)

    @property
    def next_sibling(self) -> DocumentNode | None:
        """The next node at this level in collation order (existing or not), or None."""
        return self._sibling(reverse=False)

    @property
    def previous_sibling(self) -> DocumentNode | None:
        """The previous node at this level in collation order, or None."""
        return self._sibling(reverse=True)

    # --- writes ----------------------------------------------------------------------

    def delete(self) -> None:
        """Delete the node's value and its whole subtree, atomically."""
        self._backend.remove_range(self._key, self._key + SUBTREE_END)

    def increment(self, by: Number = 1) -> Number:
        """Atomically add ``by`` (missing counts as 0) and return the new number."""
        where = str(self)
        return self._backend.increment(self._key, check_increment(by, where), where)

    def lock(
        self, timeout: float = DEFAULT_TIMEOUT, lease: float | None = DEFAULT_LEASE
    ) -> NodeLock:
        """A lock on this path, not yet acquired: use ``with`` or ``acquire()``."""
        return NodeLock(self._backend, self._key, str(self), timeout, lease)

    # --- whole documents -------------------------------------------------------------

    def get_document(self, use_arrays: bool = False) -> Document:
        """The subtree as nested dicts (lists with ``use_arrays``) or the node's value."""
        rows = self._backend.items(self._key, self._key + SUBTREE_END)
        if not rows:
            return {}
        if len(rows) == 1 and rows[0][0] == self._key:
            return load_value(rows[0][1])
        root: dict[Subscript, Any] = {}
        cut = len(self._key)
        for key, text in rows:
            if key == self._key:
                continue  # an intermediate node's own value is not part of the document
            *parents, leaf = collation.decode(key, cut)
            target = root
            for subscript in parents:
                branch = target.get(subscript)
                if not isinstance(branch, dict):
                    branch = target[subscript] = {}
                target = branch
            target[leaf] = load_value(text)
        return _with_arrays(root) if use_arrays else root

    def set_document(self, document: object) -> None:
        """Write a dict/list/scalar tree under this node in one transaction (a merge)."""
        puts: list[tuple[bytes, str]] = []
        removes: list[bytes] = []
        pending: list[tuple[bytes, tuple[Subscript, ...], object]] = [
            (self._key, self._path, document)
        ]
        while pending:
            key, path, item = pending.pop()
            if isinstance(item, dict):
                entries: list[tuple[object, object]] = list(item.items())
            elif isinstance(item, list | tuple):
                entries = list(enumerate(item))
            elif item is None:
                removes.append(key)
                continue
            else:
                where = str(DocumentNode(self._backend, self._document, path, key, 0))
                puts.append((key, dump_value(item, where)))
                continue
            for subscript, child in reversed(entries):
                normal = collation.normalize(subscript)
                pending.append((key + collation.encode_normalized(normal), (*path, normal), child))
        if puts or removes:
            self._backend.write_batch(puts, removes)


def _with_arrays(branch: dict[Subscript, Any]) -> Document:
    """Turn every dict whose keys are exactly the ints 0..n-1 into a list, bottom up."""
    for subscript, child in branch.items():
        if isinstance(child, dict):
            branch[subscript] = _with_arrays(child)
    if all(type(key) is int and key == index for index, key in enumerate(branch)):
        return list(branch.values())
    return branch
