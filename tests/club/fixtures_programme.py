"""The club's programme for the tests: the demo's (crm.demo.club), so the tests and the demo show the same club —
the programme run by 客户俱乐部, the levels 普卡 0 / 银卡 2000 / 金卡 8000 / 钻石卡 20000 with benefits and quotas,
two standing point rules and a dated bonus campaign, the charter and the handbook (version 1), and the rewards.
Idempotent. Called first among the club's fixtures by tests/conftest.py."""

from crm.demo.club import seed_club_programme


def seed(tenant) -> None:
    seed_club_programme(tenant)
