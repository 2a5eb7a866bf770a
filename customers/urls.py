from django.urls import include, path

from customers import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/vehicles/new/", views.vehicle_add, name="vehicle_add"),
    path("<int:pk>/purchases/new/", views.purchase_add, name="purchase_add"),
    path("<int:pk>/visits/new/", views.visit_add, name="visit_add"),
    path("<int:pk>/notes/new/", views.note_add, name="note_add"),
    path("<int:pk>/reveal/", views.reveal_mobile, name="reveal_mobile"),
    path("", include("customers.urls_documents")),
    path("", include("customers.urls_quality")),
    path("", include("customers.urls_transfers")),
    path("", include("customers.urls_exports")),
]
