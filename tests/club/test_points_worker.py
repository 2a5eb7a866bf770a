"""The ledger's jobs through real Celery workers on Redis (no eager mode): a recorded purchase earns and its
cancellation reverses, after the commit; expiry and the level review killed halfway (a worker process SIGKILLed
while a batch waits on a lock) and run again change nothing twice."""

import os
import signal
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_scopes import scope

from accounts.models import Tenant
from club.models import LevelEvent, Member, PointEntry, PointLot, PointRule
from club.services.expiry import points_expire
from club.services.levels import levels_review
from club.services.points import points_earn
from customers import signals
from customers.models import Purchase
from customers.services.customers import purchase_record
from tests.club.ledger import ladder, new_member
from tests.waiting import wait_for


def points_of(tenant, member):
    with scope(tenant=tenant):
        return Member.objects.get(pk=member.pk).points


def test_a_recorded_purchase_earns_after_the_commit_and_its_cancellation_reverses(worker):
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        PointRule.objects.filter(tenant=demo).update(active=False)
        PointRule.objects.create(tenant=demo, name="购车积分", source="purchase", points_per_yuan=Decimal("0.01"))
        member = new_member(demo)
        with transaction.atomic():
            purchase = purchase_record(customer=member.customer, contract_on=demo.today(), amount=Decimal("120000"))
            assert points_of(demo, member) == 0  # enqueued on commit, not before
    assert wait_for(lambda: points_of(demo, member) == 1200)
    with scope(tenant=demo), transaction.atomic():
        Purchase.objects.filter(pk=purchase.pk).update(cancelled_at=timezone.now())
        purchase.refresh_from_db()
        signals.purchase_cancelled.send(Purchase, instance=purchase, customer=member.customer)
    assert wait_for(lambda: points_of(demo, member) == 0)
    with scope(tenant=demo):
        kinds = list(PointEntry.objects.filter(member=member).order_by("id").values_list("kind", "points"))
    assert kinds == [("earn", 1200), ("reverse", -1200)]


def _worker_command():
    return [sys.executable, "-m", "celery", "-A", "crm", "worker", "--pool", "solo", "--without-heartbeat",
            "--without-gossip", "--without-mingle", "--loglevel", "WARNING"]


def _kill_while_waiting_on(member_id, enqueue, env):
    """Start a worker, hold `member_id`'s row locked, enqueue the task, and SIGKILL the worker once the task
    waits for that row (the batches before it committed, its own not)."""
    db = connection.settings_dict
    blocker = psycopg2.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"])
    blocker.autocommit = False
    watcher = psycopg2.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"])
    watcher.autocommit = True
    with blocker.cursor() as cursor:
        cursor.execute("SELECT 1 FROM club_member WHERE id = %s FOR UPDATE", [member_id])
    process = subprocess.Popen(_worker_command(), env=env, cwd=settings.BASE_DIR, start_new_session=True)
    try:
        enqueue()

        def waiting_on_the_lock():
            with watcher.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
                               [db["NAME"]])
                return cursor.fetchone()[0] == 1

        assert wait_for(waiting_on_the_lock, seconds=60)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        blocker.rollback()
        blocker.close()
        watcher.close()


def _run_until(check, env):
    process = subprocess.Popen(_worker_command(), env=env, cwd=settings.BASE_DIR, start_new_session=True)
    try:
        assert wait_for(check, seconds=60)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(20)


def test_expiry_and_level_review_killed_halfway_and_run_again_change_nothing_twice(seeded_transactional):
    from club.tasks import expire_points, review_levels
    from crm.celery import app

    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        ladder(demo)
        yesterday = demo.today() - timedelta(days=1)
        members = [new_member(demo) for _ in range(3)]
        for n, member in enumerate(members):
            points_earn(member=member, points=100 + n, source="activity", reason="活动", expires_on=yesterday)
            if n:  # 1000 and 2000 qualifying points: 银卡 both
                points_earn(member=member, points=1000 * n, qualifying=1000 * n, source="purchase", reason="购车",
                            expires_on=None)
        Member.objects.filter(pk__in=[m.pk for m in members]).update(review_on=demo.today())
        ids = sorted(m.pk for m in members)
    url = urlsplit(os.environ["DATABASE_URL"])
    env = {**os.environ, "DATABASE_URL": urlunsplit(url._replace(path=f"/{connection.settings_dict['NAME']}")),
           "CELERY_VISIBILITY_TIMEOUT": "2"}
    app.connection_for_write().default_channel.client.flushdb()

    def expired():
        with scope(tenant=demo):
            return dict(PointEntry.objects.filter(kind="expire").values_list("member_id", "points"))

    _kill_while_waiting_on(ids[1], lambda: expire_points.delay(tenant_id=demo.pk, batch_size=1), env)
    assert expired() == {ids[0]: -100}  # the first batch committed, the killed one left nothing
    _run_until(lambda: len(expired()) == 3, env)
    assert expired() == {ids[0]: -100, ids[1]: -101, ids[2]: -102}
    with scope(tenant=demo):
        assert points_expire(tenant=demo) == 0
        assert [Member.objects.get(pk=pk).points for pk in ids] == [0, 1000, 2000]
        assert not PointLot.objects.filter(member_id__in=ids, expires_on=yesterday, remaining__gt=0).exists()

    def reviewed():
        with scope(tenant=demo):
            return sorted(LevelEvent.objects.filter(member_id__in=ids, kind__in=["kept", "downgrade"])
                          .values_list("member_id", "to_level__name"))

    _kill_while_waiting_on(ids[1], lambda: review_levels.delay(tenant_id=demo.pk, batch_size=1), env)
    assert reviewed() == [(ids[0], "普卡")]
    _run_until(lambda: len(reviewed()) == 3, env)
    assert reviewed() == [(ids[0], "普卡"), (ids[1], "银卡"), (ids[2], "银卡")]
    with scope(tenant=demo):
        review_on = demo.today()
        for pk in ids:
            assert Member.objects.get(pk=pk).review_on == review_on.replace(year=review_on.year + 1)
        again = levels_review(tenant=demo)
        assert (again.kept, again.downgraded) == (0, 0)
        assert LevelEvent.objects.filter(member_id__in=ids, kind__in=["kept", "downgrade"]).count() == 3
