"""Waiting for and watching jobs (one shared poller per watched job): what other layers use.

Layered without circles: events (ids, events, problems) < poller (the shared pollers) <
subscription (one watch) < watcher (JobWatcher: wait, long-poll, watch).
"""

from gateway.watch.events import EventId, JobEvent, StillFailing, WatcherClosed, change_key
from gateway.watch.subscription import Subscription, iterate_blocking
from gateway.watch.watcher import (
    WAIT_POLL_INITIAL,
    WAIT_POLL_MAX,
    JobWatcher,
    WaitTimedOut,
    WatchStats,
)

__all__ = [
    "WAIT_POLL_INITIAL",
    "WAIT_POLL_MAX",
    "EventId",
    "JobEvent",
    "JobWatcher",
    "StillFailing",
    "Subscription",
    "WaitTimedOut",
    "WatchStats",
    "WatcherClosed",
    "change_key",
    "iterate_blocking",
]
