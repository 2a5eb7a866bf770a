"""The customer archive's URLs: /customers/… (namespace "customers"), and the leads (集客登记), mounted at
/leads/ by crm/urls.py under the namespace "leads" (`lead_patterns`).

The fixed words ("missing/", "duplicates/", "imports/", "exports/", "documents/", "purchases/", "visits/") never
match the <int:pk>/ routes."""

from django.urls import path

from customers.views import customers, documents, exports, imports, leads, quality

app_name = "customers"

customer_patterns = [
    path("", customers.customer_list, name="list"),
    path("new/", customers.customer_create, name="create"),
    path("<int:pk>/", customers.customer_detail, name="detail"),
    path("<int:pk>/edit/", customers.customer_edit, name="edit"),
    path("<int:pk>/vehicles/new/", customers.vehicle_add, name="vehicle_add"),
    path("<int:pk>/purchases/new/", customers.purchase_add, name="purchase_add"),
    path("<int:pk>/visits/new/", customers.visit_add, name="visit_add"),
    path("<int:pk>/notes/new/", customers.note_add, name="note_add"),
    path("<int:pk>/reveal/", customers.reveal_mobile, name="reveal_mobile"),
    path("purchases/<int:pk>/cancel/", customers.purchase_cancel, name="purchase_cancel"),
    path("visits/<int:pk>/cancel/", customers.visit_cancel, name="visit_cancel"),
]

# scanned documents of a customer
document_patterns = [
    path("<int:pk>/documents/new/", documents.document_add, name="document_add"),
    path("documents/<int:pk>/", documents.document_download, name="document_download"),
]

# duplicates, merge, completeness worklist
quality_patterns = [
    path("missing/", quality.missing_data, name="missing"),
    path("duplicates/", quality.duplicates, name="duplicates"),
    path("<int:pk>/merge/<int:other>/", quality.merge, name="merge"),
]

# import of customers
import_patterns = [
    path("imports/", imports.import_list, name="import_list"),
    path("imports/<int:pk>/", imports.import_detail, name="import_detail"),
    path("imports/<int:pk>/progress/", imports.import_progress, name="import_progress"),
    path("imports/<int:pk>/report/", imports.import_report, name="import_report"),
]

# export of the customer list
export_patterns = [
    path("exports/", exports.export_list, name="export_list"),
    path("exports/new/", exports.export_new, name="export_new"),
    path("exports/<int:pk>/", exports.export_detail, name="export_detail"),
    path("exports/<int:pk>/download/", exports.export_download, name="export_download"),
]

urlpatterns = [*customer_patterns, *document_patterns, *quality_patterns, *import_patterns, *export_patterns]

# leads (集客登记): /leads/…, namespace "leads" (crm/urls.py)
lead_patterns = [
    path("", leads.lead_list, name="list"),
    path("new/", leads.lead_create, name="create"),
    path("referrers/", leads.referrer_search, name="referrers"),
    path("import/", leads.lead_import, name="import"),
    path("<int:pk>/", leads.lead_detail, name="detail"),
    path("<int:pk>/move/", leads.lead_move, name="move"),
    path("<int:pk>/assign/", leads.lead_assign, name="assign"),
    path("<int:pk>/take/", leads.lead_take, name="take"),
    path("<int:pk>/won/", leads.lead_win, name="win"),
]
