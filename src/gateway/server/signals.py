"""Process signals the service reacts to: SIGHUP reloads the config; SIGTERM/SIGINT (which
uvicorn handles to shut down) also close the job watchers, so event streams and long-polls end
at once instead of holding the server for its whole graceful-shutdown period."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import FrameType

log = logging.getLogger("gateway.server")
SHUTDOWN_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def install_sighup(handler: Callable[[], object]) -> bool:
    """SIGHUP -> reload; only possible in the main thread of a process with an event loop."""
    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, handler)
    except (NotImplementedError, RuntimeError, ValueError, AttributeError):
        log.info("SIGHUP reload not available here (not the main thread); the file watch is")
        return False
    return True


def remove_sighup() -> None:
    with suppress(NotImplementedError, RuntimeError, ValueError):
        asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)


@contextmanager
def on_shutdown_signal(callback: Callable[[], object]) -> Iterator[None]:
    """Call `callback` on the event loop when SIGTERM/SIGINT arrives, then let the handler that
    was there (uvicorn's, which starts the graceful shutdown) act as before.

    Chained with `signal.signal` (not the loop's handlers) so the previous handler is kept
    and restored; a no-op outside the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    previous = {sig: signal.getsignal(sig) for sig in SHUTDOWN_SIGNALS}

    def chained(sig: int, frame: FrameType | None) -> None:
        with suppress(RuntimeError):  # the loop may be closing
            loop.call_soon_threadsafe(callback)
        before = previous.get(signal.Signals(sig))
        if callable(before):
            before(sig, frame)
        elif before == signal.SIG_DFL:  # nobody handled it: do what the OS would have done
            signal.signal(sig, signal.SIG_DFL)
            signal.raise_signal(sig)

    installed = []
    for sig, before in previous.items():
        if before is None or before == signal.SIG_IGN:
            continue  # installed outside Python, or deliberately ignored: leave it alone
        signal.signal(sig, chained)
        installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            if signal.getsignal(sig) is chained:
                signal.signal(sig, previous[sig])
