from django.urls import path

from . import api

urlpatterns = [
    path("imports/", api.ImportListCreateApi.as_view(), name="import-list"),
    path("imports/<int:pk>/", api.ImportDetailApi.as_view(), name="import-detail"),
    path("imports/<int:pk>/validate/", api.ImportValidateApi.as_view(), name="import-validate"),
    path("imports/<int:pk>/commit/", api.ImportCommitApi.as_view(), name="import-commit"),
    path("exports/deals.csv", api.DealsExportApi.as_view(), name="export-deals"),
    path("exports/prospects.csv", api.ProspectsExportApi.as_view(), name="export-prospects"),
    path("exports/contacts.csv", api.ContactsExportApi.as_view(), name="export-contacts"),
]
