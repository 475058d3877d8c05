from django.urls import path

from . import views

app_name = "dashboard"
urlpatterns = [
    path("", views.index, name="index"),
    path("reps/", views.rep_table, name="reps"),
    path("flags/", views.flags, name="flags"),
    path("flags/acknowledge/", views.flag_bulk_acknowledge, name="flag_bulk_acknowledge"),
    path("flags/<int:pk>/acknowledge/", views.flag_acknowledge_view, name="flag_acknowledge"),
]
