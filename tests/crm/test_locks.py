"""crm.locks on the suite's real Redis."""

import time

from crm.locks import held_alone


def test_one_holder_at_a_time_and_free_again_after():
    with held_alone("test:one", lease=60) as first:
        with held_alone("test:one", lease=60) as second, held_alone("test:other", lease=60) as other:
            assert (first, second, other) == (True, False, True)
    with held_alone("test:one", lease=60) as again:
        assert again


def test_a_holder_older_than_the_callers_lease_is_taken_over_and_cannot_release_the_new_one():
    dead = held_alone("test:stale", lease=600)  # a worker that dies holding it
    assert dead.__enter__()
    time.sleep(0.05)
    with held_alone("test:stale", lease=0.01) as taker:
        assert taker
    third = held_alone("test:stale", lease=600)
    assert third.__enter__()
    dead.__exit__(None, None, None)  # the dead one's late release must not free the lock the third one holds
    with held_alone("test:stale", lease=600) as fourth:
        assert not fourth
    third.__exit__(None, None, None)
    with held_alone("test:stale", lease=600) as fifth:
        assert fifth
