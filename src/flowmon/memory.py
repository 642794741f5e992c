"""A closed session's memory given back to the machine, not only to Python.

Panel collects a destroyed session's objects (a debounced ``gc.collect``), but glibc's allocator keeps the
freed pages for the process: a server that once had 50 pages open stays that large for weeks. After sessions
are destroyed (debounced, once for a batch of them) this collects and asks glibc to return free memory to the
system (``malloc_trim``); elsewhere (no glibc) it only collects.

A trim returns only whole free pages, and two kinds of small leftovers of closed sessions pinned them:
- pandas' copy-on-write bookkeeping: every view of a frame shared by all sessions (boundaries, lookups, the
  events) leaves a weak reference in the shared block's list, pruned only when the list doubles. Thousands
  of dead ones, scattered over the heap, kept about 50 MB of freed pages resident at 200k events.
- Panel's template adds each session's root to ``state._fake_roots`` and never removes it (its own
  clean-up looks in a dict that is never filled), so the list, scanned on every update, grows forever.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc

import panel as pn
from panel.io.state import state

DELAY_S = 2.0  # after the last session of a batch was destroyed (Panel destroys expired sessions together)

_pending = False


def _find_trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)  # glibc only
    if trim is not None:
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_TRIM = _find_trim()


def _prune_pandas_references() -> None:
    """Drop the dead weak references in pandas' copy-on-write lists."""
    try:
        from pandas._libs.internals import BlockValuesRefs
    except ImportError:  # pandas moved its internals: nothing to prune, the trim still runs
        return
    for references in (o for o in gc.get_objects() if type(o) is BlockValuesRefs):
        references.has_reference()  # it keeps only the live references, which is the pruning we need


def _forget_closed_roots() -> None:
    """Panel's ``_fake_roots`` without the roots of destroyed sessions (gone from ``state._views``)."""
    roots = getattr(state, "_fake_roots", None)
    if isinstance(roots, list):
        roots[:] = [ref for ref in roots if ref in state._views]


def release() -> None:
    """Collect unreachable objects now and return the allocator's free pages to the system."""
    gc.collect()
    _forget_closed_roots()
    _prune_pandas_references()
    if _TRIM is not None:
        _TRIM(0)


def _run() -> None:
    global _pending
    _pending = False
    release()


def _schedule(session_context) -> None:
    global _pending
    if _pending:
        return
    from tornado.ioloop import IOLoop

    _pending = True
    IOLoop.current().call_later(DELAY_S, _run)


def release_when_closed() -> None:
    """In a server session: once it is destroyed, give its memory back (see the module's doc)."""
    document = pn.state.curdoc
    if document is None or document.session_context is None:
        return
    # A module-level function: the callback must not hold the session it outlives.
    document.on_session_destroyed(_schedule)
