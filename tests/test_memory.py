import gc
import weakref

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
