"""service/heap.py: objects alive at start-up are kept out of the collector's scans."""

from __future__ import annotations

import gc
import weakref

from loanrecovery.service.heap import freeze_long_lived


class _Node:
    me: _Node


def test_frozen_objects_are_not_scanned_and_a_second_call_frees_replaced_ones():
    node = _Node()
    node.me = node  # a reference cycle: only the cyclic collector can free it
    ref = weakref.ref(node)
    try:
        assert freeze_long_lived() > 0  # (other threads may free frozen objects meanwhile)
        assert gc.get_freeze_count() > 0
        del node
        gc.collect()
        assert ref() is not None  # frozen: the collector never looked at it
        freeze_long_lived()  # unfreezes first, as after a bundle swap
        assert ref() is None
    finally:
        gc.unfreeze()
