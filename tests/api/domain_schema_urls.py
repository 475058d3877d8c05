"""A URLconf holding only the sales API, to check its OpenAPI schema on its own."""

from django.urls import include, path

urlpatterns = [path("api/v1/", include("deals.api.urls"))]
