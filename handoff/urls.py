from django.urls import path

from winwin_crm.views import placeholder

app_name = "handoff"
urlpatterns = [path("", placeholder, {"title": "Handoffs"}, name="queue")]
