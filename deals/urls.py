from django.urls import path

from winwin_crm.views import placeholder

app_name = "deals"
urlpatterns = [path("", placeholder, {"title": "My deals"}, name="deal_list")]
