from django.urls import path

from winwin_crm.views import placeholder

app_name = "dashboard"
urlpatterns = [path("", placeholder, {"title": "Dashboard"}, name="index")]
