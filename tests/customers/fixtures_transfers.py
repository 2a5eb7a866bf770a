"""Session test data for the transfers work: rows the URL and admin matrices open (called per tenant by
tests/conftest.py, inside the tenant scope).

The import: one draft ImportJob per tenant, uploaded by <tenant>.director (the first persona holding
customers.import_customer), with a small CSV stored under MEDIA_ROOT at a fixed name (written once, so test
sessions do not pile files up)."""

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from accounts.models import Staff
from customers.models import ImportJob

IMPORT_CSV = ("姓名,手机号码,车架号,车型,客户等级\r\n"
              "孙丽,13700001234,LFV3A23C9J3012345,大众速腾,A级\r\n"
              "周杰,12345,,,B\r\n").encode("utf-8-sig")


def seed(tenant):
    name = f"imports/{tenant.pk}/test-fixture.csv"
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(IMPORT_CSV))
    director = Staff.objects.get(user__username=f"{tenant.slug}.director")
    job = ImportJob(tenant=tenant, created_by=director, original_name="客户导出.csv", total_rows=2,
                    columns={"姓名": "name", "手机号码": "mobile", "车架号": "vin", "车型": "model_name",
                             "客户等级": "tier"},
                    headers=["姓名", "手机号码", "车架号", "车型", "客户等级"], revision=1)
    job.file.name = name
    job.save()
