"""Waiting for what a real Celery worker does in the background."""

import time


def wait_for(check, seconds=30) -> bool:
    """Poll `check()` every 0.1 s until it is true (True) or `seconds` pass (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False
