"""Survey sending through a real Celery worker on Redis (no eager mode), to a local stand-in of the SMS
provider, and a worker killed while sending."""

import json
import os
import signal
import subprocess
import sys
from datetime import time, timedelta
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings as django_settings
from django.db import connection
from django.db.models import F
from django_scopes import scope

from accounts.models import Tenant
from crm.celery import app
from customers.models import Customer, ServiceVisit
from service.models import ServiceSettings, SurveyInvitation
from service.services.survey_sending import survey_invitations_queue
from service.tasks import send_surveys
from tests.service.fake_aliyun import DOWN, THROTTLED, aliyun_settings, fake_aliyun
from tests.waiting import wait_for


def surveyable(tenant, names):
    """A visit yesterday for each customer, sending around the clock, and their invitations queued."""
    with scope(tenant=tenant):
        SurveyInvitation.objects.all().delete()
        ServiceSettings.objects.update_or_create(tenant=tenant,
                                                 defaults={"surveys_from": time(0), "surveys_until": time(0)})
        for name in names:
            customer = Customer.objects.get(name=name)
            ServiceVisit.objects.create(tenant=tenant, customer=customer, visit_type="repair", amount=300,
                                        opened_on=tenant.today() - timedelta(days=1))
        assert survey_invitations_queue(tenant).created == len(names)


def invitation(tenant, name):
    with scope(tenant=tenant):
        return SurveyInvitation.objects.get(customer__name=name)


def test_an_sms_provider_that_fails_twice_is_retried_and_the_tries_are_recorded(worker, settings):
    demo = Tenant.objects.get(slug="demo")
    surveyable(demo, ["李强"])
    with fake_aliyun([DOWN, THROTTLED]) as (fake, endpoint):
        aliyun_settings(settings, endpoint)
        for tries in (1, 2, 3):
            send_surveys.delay(tenant_id=demo.pk)
            assert wait_for(lambda n=tries: len(fake.requests) == n and invitation(demo, "李强").sending_since is None)
            if tries < 3:  # the pause before the next try has passed
                with scope(tenant=demo):
                    SurveyInvitation.objects.update(send_after=F("send_after") - timedelta(hours=1))
    sent = invitation(demo, "李强")
    assert (sent.status, sent.attempts) == ("sent", 3)
    assert sent.last_error.startswith("isv.BUSINESS_LIMIT_CONTROL")  # why it took three tries
    assert fake.requests[0]["OutId"] == fake.requests[2]["OutId"] == f"survey-{sent.pk}"


def test_a_worker_killed_while_sending_sends_nothing_twice_when_run_again(seeded_transactional, tmp_path):
    """A separate worker process hangs at the third message (claimed, not yet handed to the provider) and
    is SIGKILLed. A new worker sends the rest; the claimed one is recorded as interrupted, not sent again."""
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo):
        for n in range(3):
            Customer.objects.create(tenant=demo, name=f"新客户{n}", mobile=f"+861391234560{n}")
    names = ["李强", "赵敏", "北京宏达物流有限公司", "新客户0", "新客户1", "新客户2"]
    surveyable(demo, names)
    outbox = tmp_path / "sms.jsonl"
    db = connection.settings_dict
    url = urlsplit(os.environ["DATABASE_URL"])
    env = {**os.environ, "DATABASE_URL": urlunsplit(url._replace(path=f"/{db['NAME']}")),
           "CELERY_VISIBILITY_TIMEOUT": "2", "SMS_FILE_PATH": str(outbox),
           "SMS_BACKEND": "tests.service.sms_backends.HangsAtThird", "SURVEY_SENDERS": "1"}
    command = [sys.executable, "-m", "celery", "-A", "crm", "worker", "--pool", "solo", "--without-heartbeat",
               "--without-gossip", "--without-mingle", "--loglevel", "WARNING"]
    app.connection_for_write().default_channel.client.flushdb()  # nothing left over from other tests

    def sent():
        return [json.loads(line)["key"] for line in outbox.read_text().splitlines()] if outbox.exists() else []

    first = subprocess.Popen(command, env=env, cwd=django_settings.BASE_DIR, start_new_session=True)
    try:
        send_surveys.delay(tenant_id=demo.pk)
        assert wait_for(lambda: os.path.exists(f"{outbox}.hung"), seconds=60)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    hung = json.loads(open(f"{outbox}.hung").read())["key"]
    assert len(sent()) == 2 and hung not in sent()

    env.update(SMS_BACKEND="crm.sms.FileBackend", SURVEY_SENDING_LEASE="0")
    second = subprocess.Popen(command, env=env, cwd=django_settings.BASE_DIR, start_new_session=True)
    try:
        send_surveys.delay(tenant_id=demo.pk)

        def done():
            with scope(tenant=demo):
                return not SurveyInvitation.objects.filter(status="pending").exists()

        assert wait_for(done, seconds=60)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(20)
    keys = sent()
    assert len(keys) == len(set(keys)) == len(names) - 1  # each once; the one in flight not again
    with scope(tenant=demo):
        statuses = dict(SurveyInvitation.objects.values_list("pk", "status"))
        interrupted = SurveyInvitation.objects.get(pk=int(hung.removeprefix("survey-")))
    assert sorted(statuses.values()) == ["failed"] + ["sent"] * (len(names) - 1)
    assert interrupted.status == "failed" and interrupted.last_error
