"""Bulk demo customers: `seed_customers(tenant, n)` fills one tenant with n realistic customers, their
vehicles, purchases, service visits, mileage readings and tags, fast enough for a million.

How it stays fast:

* Rows are written with PostgreSQL COPY, in chunks of `CHUNK` customers; primary keys are allocated
  here (the tables are locked against other writers, the sequences are set past the ids at the end),
  so child rows reference their parents without a round trip.
* Python builds chunk k+1 while a second thread streams chunk k to the server (psycopg2 releases the
  GIL while the server works), so both cores of a small machine are busy.
* pghistory's triggers stand aside (crm.bulk.bulk_history): demo data writes no history.
  When the database role may set `session_replication_role`, the foreign-key triggers are skipped
  too: every reference is correct by construction (staff, departments and tags are read from the
  tenant first, children point at the ids allocated here).
* For a large load (at least `DROP_INDEXES_FROM` customers, and at least as many as the table holds
  already) the secondary indexes of the loaded tables are dropped first and rebuilt afterwards from
  their exact `pg_get_indexdef`, then the tables are analyzed; unique indexes and primary keys stay.

Measured on the 2-core dev machine (PostgreSQL 15, `make run` settings), one million customers
(10.7 million rows in all): about 2 minutes, half of it rebuilding indexes; about 5.5 minutes when the
foreign-key checks have to run.

Everything happens in one transaction: a failed or interrupted run leaves no half-loaded tenant and
no missing index behind. While it runs, other sessions cannot write these tables (and cannot read
them either while indexes are being rebuilt): this is a tool for demo and benchmark databases.

Numbering is deterministic: customer number i of a tenant always gets the same mobile number (a
keyed bijection of i into the eight trailing digits of a real mobile prefix) and its vehicles the
same VIN serial and plate number, so mobiles and VINs are unique by construction (plates nearly so).
The rest comes from random.Random seeded with the tenant slug and the chunk's first number; dates
are relative to today. A second call tops the tenant up to n customers (all rows of the tenant
count, merged ones included), continuing the numbering at the current number of customers; numbers
whose mobile is already taken (customers entered by hand, deleted demo customers) are skipped.

Must run inside the tenant's scope: staff, departments and tags are read through the ORM.
"""

from __future__ import annotations

import hashlib
import queue
import random
import threading
import time
from datetime import date, datetime

from django.db import connection, transaction

from accounts.models import Department, PositionAssignment, RoleKind
from crm.bulk import (
    advance_sequence,
    bulk_history,
    copy_rows,
    deferred_foreign_keys,
    foreign_key_checks_back,
    lock_tables,
    next_id,
    secondary_indexes,
    skip_foreign_key_checks,
    table_name,
)
from customers.models import Customer, CustomerTag, MileageReading, Purchase, ServiceVisit, Tag, Vehicle
from customers.validators import VIN_VALUES, VIN_WEIGHTS

CHUNK = 50_000
DROP_INDEXES_FROM = 200_000  # customers to create before dropping and rebuilding secondary indexes

# --- names ------------------------------------------------------------------------------------

# roughly by frequency; two-character surnames are rare
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
            "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫"
            "孔向汤")
COMPOUND_SURNAMES = ["欧阳", "司马", "诸葛", "上官", "东方", "慕容"]
MALE_CHARS = ("伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林阳建国志文晨博嘉子睿轩"
              "航然哲瑞泽昊鸿毅峰亮成海东晓")
FEMALE_CHARS = "芳娜敏静丽艳娟霞秀英玲桂兰萍红燕梅琳雪婷慧颖倩佳怡欣悦琪诗雨萱涵晴瑶婉璐月洁莉蕾薇妍梦思彤"

COMPANY_WORDS = ["宏达", "华通", "鑫源", "恒信", "东方", "金桥", "联合", "伟业", "永盛", "天成", "瑞丰", "正大", "兴隆",
                 "远航", "中诚", "嘉禾", "万通", "博远", "新锐", "盛世", "汇丰", "长虹", "佳美", "同创", "利达", "安泰",
                 "鼎盛", "华夏", "明珠", "星辰"]
COMPANY_TRADES = ["物流", "建材", "贸易", "科技", "电子", "餐饮管理", "建筑工程", "机械设备", "汽车租赁", "医药",
                  "食品", "文化传媒", "装饰工程", "环保科技", "网络科技", "实业", "房地产开发", "供应链管理",
                  "信息技术", "商贸"]
COMPANY_SUFFIXES = ["有限公司"] * 14 + ["有限责任公司"] * 3 + ["股份有限公司"] * 2 + ["集团有限公司"]

# city, plate prefix (province + city letters), landline area code, ID-card region codes, districts
CITIES = [
    ("北京", "京", "ABCEFGHJKLMNPQ", "010", ["110101", "110102", "110105", "110106", "110108", "110114"],
     ["东城区", "西城区", "朝阳区", "海淀区", "丰台区", "石景山区", "通州区", "昌平区", "大兴区", "顺义区"]),
    ("上海", "沪", "ABCDEFGHJKLMN", "021", ["310101", "310104", "310105", "310106", "310110", "310115"],
     ["黄浦区", "徐汇区", "长宁区", "静安区", "普陀区", "虹口区", "杨浦区", "浦东新区", "闵行区", "嘉定区"]),
    ("广州", "粤", "A", "020", ["440103", "440104", "440105", "440106", "440111", "440113"],
     ["越秀区", "海珠区", "荔湾区", "天河区", "白云区", "黄埔区", "番禺区", "花都区"]),
    ("深圳", "粤", "B", "0755", ["440303", "440304", "440305", "440306", "440307"],
     ["福田区", "罗湖区", "南山区", "宝安区", "龙岗区", "龙华区"]),
    ("杭州", "浙", "A", "0571", ["330102", "330105", "330106", "330108", "330109", "330110"],
     ["上城区", "拱墅区", "西湖区", "滨江区", "萧山区", "余杭区"]),
    ("南京", "苏", "A", "025", ["320102", "320104", "320105", "320106", "320113", "320115"],
     ["玄武区", "秦淮区", "建邺区", "鼓楼区", "栖霞区", "江宁区"]),
    ("苏州", "苏", "E", "0512", ["320505", "320506", "320507", "320508", "320509"],
     ["姑苏区", "吴中区", "相城区", "虎丘区", "吴江区"]),
    ("成都", "川", "A", "028", ["510104", "510105", "510106", "510107", "510108", "510116"],
     ["锦江区", "青羊区", "金牛区", "武侯区", "成华区", "双流区"]),
    ("武汉", "鄂", "A", "027", ["420102", "420103", "420106", "420105", "420111"],
     ["江岸区", "江汉区", "武昌区", "汉阳区", "洪山区"]),
    ("西安", "陕", "A", "029", ["610102", "610103", "610104", "610113", "610112"],
     ["新城区", "碑林区", "莲湖区", "雁塔区", "未央区"]),
    ("天津", "津", "ABCDEFGHJKLMN", "022", ["120101", "120103", "120104", "120105", "120116"],
     ["和平区", "河西区", "南开区", "河北区", "红桥区", "滨海新区"]),
    ("重庆", "渝", "ABCDF", "023", ["500103", "500105", "500106", "500107", "500108", "500112"],
     ["渝中区", "江北区", "沙坪坝区", "九龙坡区", "南岸区", "渝北区"]),
    ("郑州", "豫", "A", "0371", ["410102", "410103", "410105", "410104", "410108"],
     ["中原区", "二七区", "金水区", "管城回族区", "惠济区"]),
    ("长沙", "湘", "A", "0731", ["430102", "430103", "430104", "430105", "430111"],
     ["芙蓉区", "天心区", "岳麓区", "开福区", "雨花区"]),
    ("青岛", "鲁", "B", "0532", ["370202", "370203", "370211", "370212", "370213"],
     ["市南区", "市北区", "黄岛区", "崂山区", "李沧区"]),
    ("济南", "鲁", "A", "0531", ["370102", "370103", "370104", "370105", "370112"],
     ["历下区", "市中区", "槐荫区", "天桥区", "历城区"]),
    ("沈阳", "辽", "A", "024", ["210102", "210103", "210104", "210105", "210106"],
     ["和平区", "沈河区", "大东区", "皇姑区", "铁西区"]),
    ("合肥", "皖", "A", "0551", ["340102", "340103", "340104", "340111"],
     ["瑶海区", "庐阳区", "蜀山区", "包河区"]),
    ("福州", "闽", "A", "0591", ["350102", "350103", "350104", "350111"],
     ["鼓楼区", "台江区", "仓山区", "晋安区"]),
    ("厦门", "闽", "D", "0592", ["350203", "350206", "350211", "350205"],
     ["思明区", "湖里区", "集美区", "海沧区"]),
]
ROADS = ["人民路", "解放路", "中山路", "建设路", "长江路", "黄河路", "和平路", "新华路", "胜利路", "文化路", "朝阳路",
         "光明路", "幸福路", "学府路", "科技路", "工业路", "民生路", "青年路", "东风路", "迎宾大道", "滨江路", "花园路",
         "春晖路", "振兴路", "团结路", "友谊路", "健康路", "育才路", "金融街", "世纪大道"]

# model, WMI (maker), price range in yuan, weight, new-energy
MODELS = [
    ("大众朗逸", "LSV", 100_000, 160_000, 12, False),
    ("大众帕萨特", "LSV", 180_000, 260_000, 5, False),
    ("大众速腾", "LFV", 130_000, 190_000, 6, False),
    ("大众迈腾", "LFV", 190_000, 280_000, 5, False),
    ("丰田卡罗拉", "LFM", 110_000, 160_000, 8, False),
    ("丰田凯美瑞", "LVG", 180_000, 270_000, 6, False),
    ("本田雅阁", "LHG", 170_000, 260_000, 6, False),
    ("本田思域", "LVH", 120_000, 170_000, 4, False),
    ("别克英朗", "LSG", 100_000, 140_000, 5, False),
    ("别克GL8", "LSG", 230_000, 450_000, 3, False),
    ("日产轩逸", "LGB", 100_000, 150_000, 9, False),
    ("比亚迪秦PLUS", "LGX", 100_000, 160_000, 7, True),
    ("比亚迪宋PLUS", "LGX", 150_000, 200_000, 5, True),
    ("比亚迪汉", "LGX", 200_000, 290_000, 3, True),
    ("吉利星越L", "L6T", 140_000, 190_000, 4, False),
    ("吉利帝豪", "L6T", 80_000, 110_000, 4, False),
    ("长安CS75", "LS5", 110_000, 160_000, 4, False),
    ("哈弗H6", "LGW", 110_000, 160_000, 5, False),
    ("特斯拉Model 3", "LRW", 230_000, 300_000, 3, True),
    ("特斯拉Model Y", "LRW", 250_000, 350_000, 3, True),
    ("宝马3系", "LBV", 300_000, 400_000, 2, False),
    ("奥迪A4L", "LFV", 300_000, 400_000, 2, False),
    ("奔驰C级", "LE4", 330_000, 450_000, 2, False),
    ("福特蒙迪欧", "LVS", 180_000, 240_000, 2, False),
    ("现代伊兰特", "LBE", 100_000, 140_000, 2, False),
]

TAGS = ["老客户", "车主俱乐部", "团购", "潜在换购", "投诉过", "大客户", "家用", "网约车"]

# Mobile prefixes phonenumbers accepts in full (174 is mostly satellite numbers), with a weight out of 100.
MOBILE_PREFIXES = {
    130: 3, 131: 3, 132: 3, 133: 3, 134: 3, 135: 4, 136: 4, 137: 4, 138: 6, 139: 6,
    150: 4, 151: 4, 152: 2, 153: 2, 155: 2, 156: 2, 157: 2, 158: 4, 159: 4, 166: 1,
    170: 1, 171: 1, 172: 1, 173: 1, 175: 1, 176: 2, 177: 2, 178: 2,
    180: 2, 181: 2, 182: 2, 183: 2, 184: 1, 185: 2, 186: 3, 187: 2, 188: 2, 189: 2,
    191: 1, 198: 1, 199: 1,
}
assert sum(MOBILE_PREFIXES.values()) == 100

VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"  # the 33 characters a VIN may contain
VIN_YEARS = "ABCDEFGHJKLMNPRSTVWXY123456789"  # model-year codes from 2010
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O
PLATE_CHARS = "0123456789" + PLATE_LETTERS
PLATE_PAIRS = [(i, j) for i in range(5) for j in range(i + 1, 5)]  # positions of two letters among five
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"

EMAIL_WORDS = ["happy", "sunny", "lucky", "tiger", "dragon", "panda", "star", "cloud", "river", "forest", "smile",
               "leo", "kevin", "jack", "tony", "lily", "amy", "coco", "grace", "eric", "jason", "vivian", "cherry",
               "lemon", "mango", "sky", "ocean", "wind", "rain", "snow"]
EMAIL_DOMAINS = ["163.com"] * 4 + ["126.com"] * 2 + ["sina.com", "gmail.com", "outlook.com", "foxmail.com",
                                                       "hotmail.com", "yeah.net"]

SOURCES = ["walk_in"] * 35 + ["phone"] * 15 + ["online"] * 20 + ["referral"] * 15 + ["event"] * 7 + \
    ["import"] * 5 + ["other"] * 3
CONSENT_CHANNELS = ["paper"] * 35 + ["phone"] * 15 + ["online"] * 25 + ["wechat"] * 25
CREDIT = [("AAA", 1_000_000, 5_000_000), ("AA", 500_000, 2_000_000), ("A", 200_000, 1_000_000),
          ("B", 50_000, 300_000), ("C", 0, 50_000)]

# Tables in dependency order; the columns each COPY writes, in the order the row builders emit them.
LOAD = [
    (Customer, ["id", "tenant", "created_at", "updated_at", "kind", "name", "mobile", "other_phone", "email",
                "wechat_id", "gender", "birthday", "address", "id_number", "source", "tier", "stage", "owner",
                "department", "credit_grade", "credit_limit", "credit_review_on", "marketing_consent", "consent_at",
                "consent_channel", "consent_withdrawn_at", "last_visit_on", "is_active"]),
    (Vehicle, ["id", "tenant", "created_at", "updated_at", "customer", "vin", "plate", "model_name", "purchased_on",
               "mileage_km"]),
    (Purchase, ["id", "tenant", "created_at", "updated_at", "customer", "vehicle", "contract_on", "consultant",
                "amount"]),
    (ServiceVisit, ["id", "tenant", "created_at", "updated_at", "customer", "vehicle", "opened_on", "visit_type",
                    "mileage_km", "advisor", "amount"]),
    (MileageReading, ["id", "tenant", "created_at", "updated_at", "vehicle", "read_on", "km"]),
    (CustomerTag, ["id", "tenant", "created_at", "updated_at", "customer", "tag"]),
]
MODELS_LOADED = [model for model, _ in LOAD]


def seed_customers(tenant, n: int, *, stdout=None, chunk_size: int = CHUNK, skip_fk_checks: bool | None = None) -> int:
    """Top the tenant up to n customers (with vehicles, purchases, visits, readings and tags); returns
    how many customers were created. Call inside `scope(tenant=tenant)`.

    `skip_fk_checks`: None skips the per-row foreign-key checks when the database role may; False
    keeps them (tests use it to exercise the path a non-superuser takes)."""
    existing = Customer.objects.filter(tenant=tenant).count()
    missing = n - existing
    if missing <= 0:
        _say(stdout, f"seed_customers: {tenant.slug} already has {existing:,} customers, nothing to do")
        return 0
    plan = _Plan(tenant)
    started = time.monotonic()
    with transaction.atomic():
        with connection.cursor() as cursor:
            bulk_history(cursor)  # demo data writes no history
            lock_tables(cursor, MODELS_LOADED)  # the ids allocated here come straight from the sequences
            fast_path = skip_fk_checks is not False and skip_foreign_key_checks(cursor, MODELS_LOADED)
            deferred = [] if fast_path else deferred_foreign_keys(cursor, MODELS_LOADED)
            if deferred:
                cursor.execute(f"SET CONSTRAINTS {', '.join(deferred)} IMMEDIATE")
            rebuild = secondary_indexes(cursor, MODELS_LOADED) if _heavy(cursor, missing) else []
            for name, _definition in rebuild:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
            first_ids = {model: next_id(cursor, model) for model in MODELS_LOADED}
            if existing:
                plan.load_taken_mobiles(cursor)
        plan.ids = dict(first_ids)
        created = _load(plan, existing, missing, chunk_size, stdout, started)
        with connection.cursor() as cursor:
            for model in MODELS_LOADED:
                advance_sequence(cursor, model, first_ids[model], plan.ids[model])
            if rebuild:
                _say(stdout, f"seed_customers: rebuilding {len(rebuild)} indexes")
                t0 = time.monotonic()
                cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
                slowest = (0.0, "")
                for name, definition in rebuild:
                    t1 = time.monotonic()
                    cursor.execute(definition)
                    slowest = max(slowest, (time.monotonic() - t1, name))
                _say(stdout, f"seed_customers: indexes rebuilt in {time.monotonic() - t0:.1f}s "
                             f"(slowest {slowest[1]}: {slowest[0]:.1f}s)")
            if created >= 10_000 or rebuild:
                t0 = time.monotonic()
                for model in MODELS_LOADED:
                    cursor.execute(f"ANALYZE {table_name(model)}")
                _say(stdout, f"seed_customers: tables analyzed in {time.monotonic() - t0:.1f}s")
            if fast_path:  # back to normal for the rest of the caller's transaction
                foreign_key_checks_back(cursor)
            if deferred:
                cursor.execute(f"SET CONSTRAINTS {', '.join(deferred)} DEFERRED")
    elapsed = time.monotonic() - started
    _say(stdout, f"seed_customers: {created:,} customers created for {tenant.slug} in {elapsed:.1f}s "
                 f"({created / max(elapsed, 1e-9):,.0f}/s)")
    return created


def _say(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message + "\n" if not hasattr(stdout, "style_func") else message)
        if hasattr(stdout, "flush"):
            stdout.flush()


# --- database side ----------------------------------------------------------------------------


def _heavy(cursor, missing: int) -> bool:
    """Rebuilding indexes pays off for a large load that at least doubles the table."""
    if missing < DROP_INDEXES_FROM:
        return False
    cursor.execute("SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = %s::regclass",
                   [Customer._meta.db_table])
    return missing >= cursor.fetchone()[0]


def _load(plan, existing, missing, chunk_size, stdout, started) -> int:
    """Generate chunks in this thread while a writer thread COPYs the previous ones on the same
    connection (the main thread does not touch the connection until the writer is done)."""
    raw = connection.connection
    chunks: queue.Queue = queue.Queue(maxsize=1)
    failure: list[BaseException] = []
    stop = threading.Event()
    total = existing + missing

    def write():
        done, item = existing, ()
        try:
            with raw.cursor() as cursor:
                while (item := chunks.get()) is not None and not stop.is_set():
                    count, buffers = item
                    for (model, fields), text in zip(LOAD, buffers, strict=True):
                        copy_rows(cursor, model, fields, text)
                    done += count
                    rate = (done - existing) / max(time.monotonic() - started, 1e-9)
                    _say(stdout, f"seed_customers: {done:,}/{total:,} customers ({rate:,.0f}/s)")
        except BaseException as error:  # handed to the generating thread
            failure.append(error)
        finally:
            while item is not None:  # unblock the producer
                item = chunks.get()

    writer = threading.Thread(target=write, name="demo-copy", daemon=True)
    writer.start()
    created = 0
    number = existing  # customer numbers continue at the current count
    try:
        while created < missing and not failure:
            numbers = plan.free_numbers(range(number, number + min(chunk_size, missing - created)))
            number += min(chunk_size, missing - created)
            if numbers:
                chunks.put((len(numbers), plan.chunk(numbers)))
                created += len(numbers)
    except BaseException:
        stop.set()
        raise
    finally:
        chunks.put(None)
        writer.join()
    if failure:
        raise failure[0]
    return created


# --- generation -------------------------------------------------------------------------------


def _keys(*parts) -> list[int]:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return [int.from_bytes(digest[i:i + 4], "big") for i in range(0, 32, 4)]


def _feistel(x: int, a: int, b: int, keys) -> int:
    """A keyed bijection of range(a * b) (an even number of rounds brings the halves back to a, b)."""
    left, right = divmod(x, b)
    for key in keys:
        mixed = ((right * 0x9E3779B1 + key) >> 7) ^ (right * key)
        left, right = right, (left + mixed) % a
        a, b = b, a
    return left * b + right


class _Plan:
    """Everything a chunk needs that is fixed per tenant: staff to assign, tags, date tables, keys."""

    def __init__(self, tenant):
        self.tenant = tenant
        self.slug = tenant.slug
        zone = tenant.zone
        now = datetime.now(zone)
        self.today = now.date().toordinal()
        offset = int(now.utcoffset().total_seconds() // 60)
        sign = "+" if offset >= 0 else "-"
        zone_suffix = f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
        self.base = self.today - 80 * 366
        self.dates = [date.fromordinal(o).isoformat() for o in range(self.base, self.today + 400)]
        self.times = [f" {h:02d}:{m:02d}:{s:02d}{zone_suffix}" for h in range(8, 20) for m in range(60)
                      for s in (7, 23, 41)]
        # the times of day a row may carry, per day: today's are not later than now (nothing happened later)
        until = f" {now:%H:%M:%S}{zone_suffix}"
        today_times = [min(t, until) for t in self.times]
        self.clock = [self.times] * (self.today - self.base) + [today_times] * 400
        self.ids: dict = {}
        self.taken: set[str] = set()

        staff = (PositionAssignment.objects.filter(tenant=tenant, staff__is_active=True)
                 .values_list("staff_id", "position__title", "position__role_kind", "position__department__name"))
        owners, consultants, advisors = set(), set(), set()
        for staff_id, title, role_kind, department in staff:
            if role_kind == RoleKind.SPECIALIST and department in ("客服组", "销售部"):
                owners.add(staff_id)
            if title == "销售顾问":
                consultants.add(staff_id)
            if title == "服务顾问":
                advisors.add(staff_id)
        self.owners = [str(pk) for pk in sorted(owners)]
        self.consultants = [str(pk) for pk in sorted(consultants)] or [r"\N"]
        self.advisors = [str(pk) for pk in sorted(advisors)] or [r"\N"]
        desk = Department.objects.filter(tenant=tenant, name="客服组").order_by("id").values_list("id", flat=True)
        self.desk = str(desk.first() or r"\N")
        self.tags = [str(Tag.objects.get_or_create(tenant=tenant, name=name)[0].pk) for name in TAGS]

        setup = random.Random(f"demo-setup:{self.slug}")
        slots = [prefix for prefix, weight in MOBILE_PREFIXES.items() for _ in range(weight)]
        setup.shuffle(slots)
        ranks, self.mobile_slots = {}, []
        for prefix in slots:
            self.mobile_slots.append((str(prefix), ranks.get(prefix, 0), MOBILE_PREFIXES[prefix],
                                      _keys(self.slug, "mobile", prefix)))
            ranks[prefix] = ranks.get(prefix, 0) + 1
        self.vin_keys = _keys(self.slug, "vin")
        self.plate_keys = _keys(self.slug, "plate")
        home = setup.randrange(len(CITIES))
        self.cities = [home] * 14 + [i for i in range(len(CITIES)) if i != home]  # 60% local
        self.surnames = self._weighted_surnames()
        # a handful of VDS codes (positions 4-8) per model, with the partial VIN check sum of positions 1-8
        self.models = []
        for name, wmi, low, high, weight, ev in MODELS:
            variants = []
            for _ in range(4):
                vds = "".join(setup.choice(VIN_CHARS) for _ in range(5))
                head = wmi + vds
                variants.append((head, sum(VIN_VALUES[c] * w for c, w in zip(head, VIN_WEIGHTS[:8], strict=True))))
            self.models += [(name, variants, low // 100, high // 100, ev)] * weight

    @staticmethod
    def _weighted_surnames() -> list[str]:
        table = []
        for rank, surname in enumerate(SURNAMES):
            table += [surname] * max(1, round(400 / (rank + 4) ** 0.9))
        for surname in COMPOUND_SURNAMES:
            table.append(surname)
        return table

    def mobile(self, number: int) -> str:
        """Customer number → +861XXXXXXXXXX; a bijection, so distinct numbers never share a mobile."""
        prefix, rank, count, keys = self.mobile_slots[number % 100]
        return f"+86{prefix}{_feistel((number // 100) * count + rank, 10_000, 10_000, keys):08d}"

    def vin_tail(self, vehicle_number: int) -> tuple[str, int]:
        """Vehicle number → plant code and serial (positions 11-17), unique per tenant; with its check sum."""
        value = _feistel(vehicle_number, 33_000, 1_000, self.vin_keys)
        plant, serial = divmod(value, 1_000_000)
        tail = VIN_CHARS[plant] + f"{serial:06d}"
        return tail, sum(VIN_VALUES[c] * w for c, w in zip(tail, VIN_WEIGHTS[10:], strict=True))

    def load_taken_mobiles(self, cursor) -> None:
        """Topping up: the tenant's mobiles, so that numbers whose mobile is taken are skipped."""
        cursor.execute(f"SELECT mobile FROM {table_name(Customer)} WHERE tenant_id = %s AND mobile <> ''",
                       [self.tenant.pk])
        self.taken = {mobile for (mobile,) in cursor.fetchall()}

    def plate_body(self, vehicle_number: int, ev: bool) -> str:
        """The five characters after the city letter (six for new-energy plates: D or F first), distinct
        for distinct vehicle numbers below 7,060,000 (680,000 for new-energy), so plates rarely repeat."""
        if ev:
            value = _feistel(vehicle_number % 680_000, 680, 1_000, self.plate_keys)
            value, kind = divmod(value, 2)
            value, second = divmod(value, 34)
            return f"{'DF'[kind]}{PLATE_CHARS[second]}{value:04d}"
        value = _feistel(vehicle_number % 7_060_000, 7_060, 1_000, self.plate_keys)
        if value < 100_000:  # digits only
            return f"{value:05d}"
        value -= 100_000
        if value < 1_200_000:  # one letter among four digits
            position, value = divmod(value, 240_000)
            letter, value = divmod(value, 10_000)
            digits = f"{value:04d}"
            return digits[:position] + PLATE_LETTERS[letter] + digits[position:]
        value -= 1_200_000  # two letters among three digits
        pair, value = divmod(value, 576_000)
        letters, value = divmod(value, 1_000)
        first, second = PLATE_PAIRS[pair]
        body = list(f"{value:03d}")
        body.insert(first, PLATE_LETTERS[letters // 24])
        body.insert(second, PLATE_LETTERS[letters % 24])
        return "".join(body)

    def free_numbers(self, numbers) -> list[int]:
        if not self.taken:
            return list(numbers)
        return [number for number in numbers if self.mobile(number) not in self.taken]

    # The row builders below are one long function on purpose: it runs a million times.
    def chunk(self, numbers: list[int]) -> list[str]:  # noqa: C901
        rng = random.Random(f"demo:{self.slug}:{numbers[0]}")
        rnd = rng.random
        tenant = str(self.tenant.pk)
        dates, clock, base, today = self.dates, self.clock, self.base, self.today
        n_times = len(self.times)
        owners, n_owners, desk = self.owners, len(self.owners), self.desk
        consultants, advisors, tags = self.consultants, self.advisors, self.tags
        surnames, n_surnames = self.surnames, len(self.surnames)
        models, n_models = self.models, len(self.models)
        cities, n_cities = self.cities, len(self.cities)
        n_male, n_female = len(MALE_CHARS), len(FEMALE_CHARS)
        ids = self.ids
        customer_id, vehicle_id = ids[Customer], ids[Vehicle]
        purchase_id, visit_id = ids[Purchase], ids[ServiceVisit]
        reading_id, tag_link_id = ids[MileageReading], ids[CustomerTag]
        five_years = today - 5 * 365

        customers, vehicles, purchases, visits, readings, tag_links = [], [], [], [], [], []
        for number in numbers:
            cid = str(customer_id)
            customer_id += 1
            mobile = self.mobile(number)
            city_name, province, city_letters, area_code, id_regions, districts = CITIES[cities[int(rnd() * n_cities)]]
            # lifecycle and vehicles
            u = rnd()
            if u < 0.80:
                stage, cutoff = "customer", today
            elif u < 0.88:
                stage, cutoff = "prospect", today
            elif u < 0.97:
                stage, cutoff = "lapsed", today - 365 - int(rnd() * 535)
            else:
                stage, cutoff = "lost", today - 540 - int(rnd() * 960)
            u = rnd()
            if stage == "prospect":
                n_vehicles = 0 if u < 0.6 else 1
            else:
                n_vehicles = 0 if u < 0.0022 else (2 if u < 0.111 else 1)

            # vehicles, purchases, visits
            activity = []
            first_seen = None
            latest = None
            for slot in range(n_vehicles):
                vid = str(vehicle_id)
                vehicle_id += 1
                name, variants, low, high, ev = models[int(rnd() * n_models)]
                head, head_sum = variants[int(rnd() * 4)]
                last_day = max(cutoff - 30, five_years + 1) if cutoff < today else today - 3
                bought = five_years + int(rnd() * (last_day - five_years))
                year = date.fromordinal(bought).year + (1 if rnd() < 0.25 else 0)
                year_code = VIN_YEARS[(year - 2010) % 30]
                tail, tail_sum = self.vin_tail(number * 2 + slot)
                total = head_sum + VIN_VALUES[year_code] * 9 + tail_sum  # position 9 (check) weighs 0
                check = total % 11
                vin = f"{head}{'X' if check == 10 else check}{year_code}{tail}"
                plate = province + city_letters[int(rnd() * len(city_letters))] + self.plate_body(number * 2 + slot, ev)
                registered = bought
                if stage != "prospect":
                    contract = bought - int(rnd() * 21)
                    registered = contract
                    amount = (low + int(rnd() * (high - low))) * 100
                    stamp = dates[contract - base] + clock[contract - base][int(rnd() * n_times)]
                    purchases.append(f"{purchase_id}\t{tenant}\t{stamp}\t{stamp}\t{cid}\t{vid}"
                                     f"\t{dates[contract - base]}\t{consultants[int(rnd() * len(consultants))]}"
                                     f"\t{amount}.00\n")
                    purchase_id += 1
                    activity.append(contract)
                # service history: first maintenance, then routine every 6-12 months, now and then more
                per_day = (6_000 + rnd() * 24_000) / 365
                day = bought + 90 + int(rnd() * 90)
                km = 0
                last_km = None
                visit_day = None
                limit = 2 if stage == "prospect" else 8
                kind = "first"
                count = 0
                while day <= cutoff and count < limit:
                    km = max(km + 200, int((day - bought) * per_day * (0.9 + rnd() * 0.2)))
                    if kind == "first":
                        km = min(km, 3_000 + int(rnd() * 4_500))
                        amount = 0 if rnd() < 0.6 else 200 + int(rnd() * 20) * 10
                    elif kind == "routine":
                        amount = 350 + int(rnd() * 115) * 10
                    elif kind == "repair":
                        amount = 300 + int(rnd() * 570) * 10
                    elif kind == "warranty":
                        amount = 0
                    else:
                        amount = 1_500 + int(rnd() * 2_350) * 10
                    stamp = dates[day - base] + clock[day - base][int(rnd() * n_times)]
                    visits.append(f"{visit_id}\t{tenant}\t{stamp}\t{stamp}\t{cid}\t{vid}\t{dates[day - base]}\t{kind}"
                                  f"\t{km}\t{advisors[int(rnd() * len(advisors))]}\t{amount}.00\n")
                    readings.append(f"{reading_id}\t{tenant}\t{stamp}\t{stamp}\t{vid}\t{dates[day - base]}\t{km}\n")
                    visit_id += 1
                    reading_id += 1
                    count += 1
                    last_km, visit_day = km, day
                    u = rnd()
                    if u < 0.10:
                        kind, day = "repair", day + 20 + int(rnd() * 200)
                    elif u < 0.15 and day - bought < 3 * 365:
                        kind, day = "warranty", day + 20 + int(rnd() * 200)
                    elif u < 0.18:
                        kind, day = "accident", day + 10 + int(rnd() * 300)
                    else:
                        kind, day = "routine", day + 180 + int(rnd() * 185)
                registered_at = dates[registered - base] + clock[registered - base][int(rnd() * n_times)]
                if visit_day is not None:
                    activity.append(visit_day)
                    stamp = dates[visit_day - base] + clock[visit_day - base][int(rnd() * n_times)]
                else:
                    stamp = registered_at
                vehicles.append(f"{vid}\t{tenant}\t{registered_at}\t{stamp}"
                                f"\t{cid}\t{vin}\t{plate}\t{name}\t{dates[bought - base]}"
                                f"\t{last_km if last_km is not None else chr(92) + 'N'}\n")
                first_seen = registered if first_seen is None else min(first_seen, registered)
                if latest is None or (visit_day or registered) > latest:
                    latest = visit_day or registered

            # the customer
            if first_seen is None:
                created = today - int(rnd() * 730)
            else:
                created = max(first_seen - int(rnd() * 30), base + 1)
            created_at = dates[created - base] + clock[created - base][int(rnd() * n_times)]
            last_visit = max(activity) if activity else None
            u = rnd()
            if u < 0.07:
                kind = "company"
                name = (f"{city_name}{COMPANY_WORDS[int(rnd() * len(COMPANY_WORDS))]}"
                        f"{COMPANY_TRADES[int(rnd() * len(COMPANY_TRADES))]}"
                        f"{COMPANY_SUFFIXES[int(rnd() * len(COMPANY_SUFFIXES))]}")
                gender = birthday = id_number = ""
                if rnd() < 0.6:
                    grade, low, high = CREDIT[int(rnd() * 5)]
                    credit = (grade, f"{(low + int(rnd() * (high - low)) // 10_000 * 10_000)}.00",
                              dates[today + int(rnd() * 365) - base])
                else:
                    credit = ("", r"\N", r"\N")
            else:
                kind = "person"
                male = rnd() < 0.6
                surname = surnames[int(rnd() * n_surnames)]
                chars, n_chars = (MALE_CHARS, n_male) if male else (FEMALE_CHARS, n_female)
                given = chars[int(rnd() * n_chars)]
                if rnd() < 0.65:
                    given += chars[int(rnd() * n_chars)]
                name = surname + given
                gender = "male" if male else "female"
                credit = ("", r"\N", r"\N")
                if rnd() < 0.9:
                    age = 22 * 365 + int((rnd() + rnd()) * 0.5 * 48 * 365)
                    born = today - age
                    birthday = dates[born - base]
                    if rnd() < 0.33:
                        digits = (f"{id_regions[int(rnd() * len(id_regions))]}{birthday.replace('-', '')}"
                                  f"{int(rnd() * 50) * 2 + (1 if male else 0):03d}")
                        check = sum(int(d) * w for d, w in zip(digits, ID_WEIGHTS, strict=True)) % 11
                        id_number = digits + ID_CHECK[check]
                    else:
                        id_number = ""
                else:
                    birthday, id_number = r"\N", ""
            if not birthday:
                birthday = r"\N"
            other_phone = f"{area_code}-{50_000_000 + int(rnd() * 40_000_000)}" if rnd() < 0.05 else ""
            if rnd() < 0.6 or kind == "company":
                address = (f"{city_name}市{districts[int(rnd() * len(districts))]}{ROADS[int(rnd() * len(ROADS))]}"
                           f"{1 + int(rnd() * 300)}号")
                if kind == "person" and rnd() < 0.6:
                    address += (f"{1 + int(rnd() * 30)}栋{1 + int(rnd() * 4)}单元"
                                f"{1 + int(rnd() * 30)}{1 + int(rnd() * 4):02d}室")
            else:
                address = ""
            u = rnd()
            if u < 0.08:
                email = f"{10_000 + int(rnd() * 3_000_000_000)}@qq.com"
            elif u < 0.20:
                email = (f"{EMAIL_WORDS[int(rnd() * len(EMAIL_WORDS))]}{int(rnd() * 10_000)}"
                         f"@{EMAIL_DOMAINS[int(rnd() * len(EMAIL_DOMAINS))]}")
            else:
                email = ""
            u = rnd()
            if u < 0.12:
                wechat = "wxid_" + "".join(VIN_CHARS[int(rnd() * 33)] for _ in range(14)).lower()
            elif u < 0.30:
                wechat = f"{EMAIL_WORDS[int(rnd() * len(EMAIL_WORDS))]}_{int(rnd() * 100_000)}"
            else:
                wechat = ""
            source = SOURCES[int(rnd() * 100)]
            u = rnd()
            tier = "vip" if u < 0.02 else "a" if u < 0.17 else "b" if u < 0.57 else "c"
            if n_owners and rnd() >= 0.15:
                owner, department = owners[int(rnd() * n_owners)], r"\N"
            else:
                owner, department = r"\N", desk
            u = rnd()
            updated = latest if latest is not None and latest > created else created
            if u < 0.68:
                given_on = created + int(rnd() * (today - created + 1))
                consent_at = dates[given_on - base] + clock[given_on - base][int(rnd() * n_times)]
                channel = CONSENT_CHANNELS[int(rnd() * 100)]
                updated = max(updated, given_on)
                if u < 0.03:
                    withdrawn_on = given_on + int(rnd() * (today - given_on + 1))
                    withdrawn_at = dates[withdrawn_on - base] + clock[withdrawn_on - base][int(rnd() * n_times)]
                    consent = ("f", consent_at, channel, withdrawn_at)
                    updated = max(updated, withdrawn_on)
                else:
                    consent = ("t", consent_at, channel, r"\N")
            else:
                consent = ("f", r"\N", "", r"\N")
            updated_at = (created_at if updated == created
                          else dates[updated - base] + clock[updated - base][int(rnd() * n_times)])
            customers.append(
                f"{cid}\t{tenant}\t{created_at}\t{updated_at}\t{kind}\t{name}\t{mobile}\t{other_phone}\t{email}"
                f"\t{wechat}\t{gender}\t{birthday}\t{address}\t{id_number}\t{source}\t{tier}\t{stage}\t{owner}"
                f"\t{department}\t{credit[0]}\t{credit[1]}\t{credit[2]}\t{consent[0]}\t{consent[1]}\t{consent[2]}"
                f"\t{consent[3]}\t{dates[last_visit - base] if last_visit else chr(92) + 'N'}\tt\n"
            )
            if rnd() < 0.3:
                first = int(rnd() * 8)
                chosen = [first]
                if rnd() < 0.3:
                    chosen.append((first + 1 + int(rnd() * 7)) % 8)
                for tag in chosen:
                    tag_links.append(f"{tag_link_id}\t{tenant}\t{created_at}\t{created_at}\t{cid}\t{tags[tag]}\n")
                    tag_link_id += 1

        ids[Customer], ids[Vehicle] = customer_id, vehicle_id
        ids[Purchase], ids[ServiceVisit] = purchase_id, visit_id
        ids[MileageReading], ids[CustomerTag] = reading_id, tag_link_id
        return ["".join(rows) for rows in (customers, vehicles, purchases, visits, readings, tag_links)]
