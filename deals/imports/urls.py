from django.urls import path

from winwin_crm.views import placeholder

app_name = "imports"
urlpatterns = [path("", placeholder, {"title": "Import"}, name="index")]
