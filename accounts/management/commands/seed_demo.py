"""Demo tenants `demo` and `acme` with a realistic Chinese dealership org chart.

Idempotent: everything is found by its natural key first, so a second run creates nothing."""

import random

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone
from django_scopes import scope

from accounts import selectors, services
from accounts.models import Department, Position, PositionAssignment, RoleKind, Staff, Tenant, User
from accounts.roles import TENANT_ADMIN_GROUP
from analytics.services import followup_rollup_rebuild
from analytics.survey_rollups import survey_rollup_rebuild
from customers.demo import seed_customers
from customers.demo_leads import seed_leads
from customers.services.quality import completeness_seed
from service.demo import seed_call_setup, seed_plans, seed_surveys
from service.demo_appointments import seed_appointments
from service.demo_calls import seed_call_history
from service.demo_complaints import seed_complaint_setup, seed_complaints
from service.demo_surveys import seed_survey_responses
from service.services.generation import generate

DEMO_PASSWORD = "crm-demo-2026"
DEFAULT_CUSTOMERS = 2000

TENANTS = [
    # slug, name, employee-number prefix, default language, holders per multi-holder position
    ("demo", "示范汽车销售服务有限公司", "D", "en", 1.0),
    ("acme", "艾克美汽车服务有限公司", "A", "zh-hans", 0.6),
]

# name, parent
DEPARTMENTS = [
    ("总经理室", None),
    ("客户关系管理部", "总经理室"),
    ("客服组", "客户关系管理部"),
    ("客户信息组", "客户关系管理部"),
    ("客户俱乐部", "客户关系管理部"),
    ("销售部", "总经理室"),
    ("售后服务部", "总经理室"),
]

# title, role kind, department, reports to, holders (full size), demo user holding it
POSITIONS = [
    ("总经理", RoleKind.DIRECTOR, "总经理室", None, 1, None),
    ("客户关系管理总监", RoleKind.DIRECTOR, "客户关系管理部", "总经理", 1, "director"),
    ("客户管理经理", RoleKind.MANAGER, "客户关系管理部", "客户关系管理总监", 1, None),
    ("市场专员", RoleKind.SPECIALIST, "客户关系管理部", "客户管理经理", 1, None),
    ("客服经理", RoleKind.MANAGER, "客服组", "客户管理经理", 1, "manager"),
    ("客服专员（服务）", RoleKind.SPECIALIST, "客服组", "客服经理", 3, "specialist"),
    ("客服专员（销售）", RoleKind.SPECIALIST, "客服组", "客服经理", 3, None),
    ("客户信息主管", RoleKind.MANAGER, "客户信息组", "客户管理经理", 1, None),
    ("数据分析员", RoleKind.ANALYST, "客户信息组", "客户信息主管", 1, "analyst"),
    ("客户信息专员", RoleKind.SPECIALIST, "客户信息组", "客户信息主管", 1, None),
    ("客户俱乐部经理", RoleKind.MANAGER, "客户俱乐部", "客户管理经理", 1, None),
    ("俱乐部专员", RoleKind.SPECIALIST, "客户俱乐部", "客户俱乐部经理", 2, None),
    ("销售经理", RoleKind.MANAGER, "销售部", "总经理", 1, None),
    ("销售顾问", RoleKind.SPECIALIST, "销售部", "销售经理", 6, None),
    ("集客专员", RoleKind.SPECIALIST, "销售部", "销售经理", 2, None),
    ("售后服务经理", RoleKind.MANAGER, "售后服务部", "总经理", 1, None),
    ("服务顾问", RoleKind.SPECIALIST, "售后服务部", "售后服务经理", 5, None),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
         "秀英", "霞", "平", "刚", "桂英", "晓东", "海燕", "志强", "建华", "丽娟", "文静", "子涵", "浩然",
         "思远", "雨欣", "嘉怡", "俊杰", "梓萱", "宇航", "欣怡", "晨", "佳琪", "博文"]


def vacuum_customer_tables() -> None:
    """After a bulk load the visibility map is empty, so list counts could not be answered from the
    indexes until autovacuum came by; do it now (outside any transaction)."""
    if connection.in_atomic_block:  # VACUUM cannot run inside a transaction (a test's): autovacuum will come
        return
    tables = [m._meta.db_table for m in apps.get_app_config("customers").get_models()]
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {', '.join(tables)}")  # seed_customers has analyzed them


class Command(BaseCommand):
    help = "Create the demo tenants demo and acme with staff, org chart and the five demo users."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS, metavar="N",
                            help="customers in demo (acme gets N/5); topped up, never duplicated "
                                 f"(default {DEFAULT_CUSTOMERS})")

    def handle(self, *args, **options):
        self.created = 0
        password = make_password(DEMO_PASSWORD)
        admin_group = Group.objects.get(name=TENANT_ADMIN_GROUP)
        for slug, name, prefix, language, scale in TENANTS:
            with transaction.atomic():
                tenant, made = Tenant.objects.get_or_create(slug=slug, defaults={"name": name,
                                                                                 "default_language": language})
                self.created += made
                with scope(tenant=tenant):
                    self._seed_tenant(tenant, prefix, scale, password, admin_group)
        self.stdout.write(f"seed_demo: {self.created} rows created" if self.created
                          else "seed_demo: demo data already present, nothing created")
        customers = options["customers"]
        for slug, share in (("demo", 1), ("acme", 5)):
            tenant = Tenant.objects.get(slug=slug)
            with scope(tenant=tenant):
                made = seed_customers(tenant, customers // share, stdout=self.stdout)
                seed_leads(tenant, customers // share, stdout=self.stdout)  # leads (集客登记) with history
                completeness_seed(tenant=tenant, rules=made > 0, stdout=self.stdout)  # default rules, scores
                seed_plans(tenant)  # the common follow-up plans, and what they call for today
                seed_call_setup(tenant)  # calling hours and the plans' questionnaires
                seed_surveys(tenant)  # the sales and service satisfaction surveys
                seed_appointments(tenant)  # appointments (预约) around today, before the reminders
                with timezone.override(tenant.timezone):
                    generated = generate(tenant)
                    seed_call_history(tenant)  # three months of past calls, made at the time
                    followup_rollup_rebuild(tenant=tenant)  # the follow-up report's figures
                    seed_survey_responses(tenant)  # six months of answered surveys
                    survey_rollup_rebuild(tenant=tenant)  # the survey results' figures
                    seed_complaint_setup(tenant)  # complaint categories, service levels, the complaints team
                    seed_complaints(tenant)  # half a year of complaints in every state
                self.stdout.write(f"seed_demo: {slug}: {generated.created} follow-ups generated")
            self.stdout.write(f"seed_demo: {slug}: {made} customers created")
            if made:
                vacuum_customer_tables()

    def _get_or_create(self, model, defaults=None, **lookup):
        obj, made = model.objects.get_or_create(defaults=defaults or {}, **lookup)
        self.created += made
        return obj

    def _seed_tenant(self, tenant, prefix, scale, password, admin_group):
        rng = random.Random(tenant.slug)
        departments = {}
        for order, (name, parent) in enumerate(DEPARTMENTS):
            departments[name] = self._get_or_create(Department, tenant=tenant, parent=departments.get(parent),
                                                    name=name, defaults={"sort_order": order})
        positions = {}
        number = 0
        for title, kind, dept, reports_to, holders, demo_role in POSITIONS:
            position = self._get_or_create(Position, tenant=tenant, department=departments[dept], title=title,
                                           defaults={"role_kind": kind, "reports_to": positions.get(reports_to)})
            positions[title] = position
            for index in range(max(1, round(holders * scale))):
                number += 1
                demo = demo_role if index == 0 else None
                staff = self._staff(tenant, prefix, number, rng, password, demo)
                self._get_or_create(PositionAssignment, tenant=tenant, position=position, staff=staff)
        number += 1
        admin = self._staff(tenant, prefix, number, rng, password, "admin")
        if not admin.user.is_staff:
            admin.user.is_staff = True
            admin.user.save(update_fields=["is_staff"])
        admin.user.groups.add(admin_group)
        manager = User.objects.get(username=f"{tenant.slug}.manager")
        desk = departments["客服组"]
        editors = set(selectors.position_editors(desk))
        if manager not in editors:  # keep editors an administrator added since
            services.department_set_position_editors(department=desk, users=editors | {manager})

    def _staff(self, tenant, prefix, number, rng, password, demo_role):
        employee_no = f"{prefix}{number:04d}"
        surname, given = rng.choice(SURNAMES), rng.choice(GIVEN)
        username = f"{tenant.slug}.{demo_role}" if demo_role else f"{tenant.slug}.{employee_no.lower()}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create(
                username=username, last_name=surname, first_name=given,
                email=f"{username.replace('.', '-')}@{tenant.slug}.example.com",
                password=password if demo_role else "!",  # staff besides the demo users cannot log in
            )
            self.created += 1
        return self._get_or_create(Staff, tenant=tenant, user=user, defaults={"employee_no": employee_no})
