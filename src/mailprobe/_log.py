"""The library's log records, all under the logger named ``mailprobe``.

A library logs but never configures logging: the app decides where records go (the
logger gets a ``NullHandler`` so nothing reaches stderr unasked). When nothing in the
process has imported :mod:`logging`, nothing can be listening, so mailprobe does not
import it either: a record is only made once the app (or anything else) has loaded
the module. That keeps ``logging`` out of a plain probe's start-up cost.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    import logging

DEBUG = 10
INFO = 20
WARNING = 30

_logger: Optional[logging.Logger] = None


def logger() -> Optional[logging.Logger]:
    """The ``mailprobe`` logger, or None while :mod:`logging` is not loaded."""
    global _logger  # noqa: PLW0603 - one logger per process, made on first need
    if _logger is None:
        module = sys.modules.get("logging")
        if module is None:
            return None
        log = module.getLogger("mailprobe")
        if not any(isinstance(h, module.NullHandler) for h in log.handlers):
            log.addHandler(module.NullHandler())
        _logger = log
    return _logger


def enabled(level: int) -> bool:
    """Whether a record at ``level`` would be handled (False without logging loaded)."""
    log = logger()
    return log is not None and log.isEnabledFor(level)


def log(level: int, msg: str, *args: Any, exc_info: bool = False) -> None:
    """Log ``msg % args`` at ``level``; the record names the caller's line."""
    log_ = logger()
    if log_ is not None and log_.isEnabledFor(level):
        log_.log(level, msg, *args, exc_info=exc_info, stacklevel=2)
