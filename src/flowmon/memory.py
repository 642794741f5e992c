"""A closed session's memory given back to the machine, not only to Python.

Panel collects a destroyed session's objects (a debounced ``gc.collect``), but glibc's allocator keeps the
freed pages for the process: a server that once had 50 pages open stays that large for weeks. After sessions
are destroyed (debounced, once for a batch of them) this collects and asks glibc to return free memory to the
system (``malloc_trim``); elsewhere (no glibc) it only collects.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc

import panel as pn

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


def release() -> None:
    """Collect unreachable objects now and return the allocator's free pages to the system."""
    gc.collect()
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
