import gc
import weakref

import pandas as pd
from panel.io.state import state

from flowmon import memory


class Node:
    pass


def test_release_collects_a_closed_sessions_cycles():
    # A closed session is a web of objects referring to each other: only a collection frees them.
    gc.disable()
    try:
        node = Node()
        node.me = node
        gone = weakref.ref(node)
        del node
        assert gone() is not None
        memory.release()
        assert gone() is None
    finally:
        gc.enable()


def test_outside_a_server_nothing_is_registered():
    memory.release_when_closed()  # a notebook or a script: no session to outlive, no error


def test_release_prunes_the_dead_views_of_a_shared_frame():
    # Each session's views of a frame every session shares leave a weak reference in the frame's block;
    # pandas prunes the dead ones only when their list doubles, and they pin freed pages until then.
    shared = pd.DataFrame({"state": ["SD01", "SD02", "SD03"], "count": [1, 2, 3]})
    for _ in range(300):
        shared[["state"]].copy(deep=False)  # a view, dropped at once as a closed session's would be
    references = [block.refs for block in shared._mgr.blocks]
    assert max(len(r.referenced_blocks) for r in references) > 100
    memory.release()
    assert max(len(r.referenced_blocks) for r in references) == 1  # the frame's own block only
    assert shared["count"].sum() == 6


def test_release_forgets_the_roots_of_destroyed_sessions(monkeypatch):
    # Panel's template adds each session's root to ``_fake_roots`` and never takes it out.
    monkeypatch.setattr(state, "_fake_roots", ["live", "closed"])
    monkeypatch.setattr(state, "_views", {"live": object()})
    memory.release()
    assert state._fake_roots == ["live"]
