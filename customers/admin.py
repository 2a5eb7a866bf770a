from django.contrib import admin

from crm.admin import TenantAdmin
from customers.models import Tag


@admin.register(Tag)
class TagAdmin(TenantAdmin):
    list_display = ("name",)
    search_fields = ("name",)
