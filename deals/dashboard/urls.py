from django.urls import path

from . import views

app_name = "dashboard"
urlpatterns = [
    path("", views.index, name="index"),
    path("reps/", views.rep_table, name="reps"),
    path("flags/", views.flags, name="flags"),
    path("outcomes/", views.outcomes_page, name="outcomes"),
    path("calibration/", views.calibration_page, name="calibration"),
    path("forecast/", views.forecast_page, name="forecast"),
    path("flags/acknowledge/", views.flag_bulk_acknowledge, name="flag_bulk_acknowledge"),
    path("flags/<int:pk>/acknowledge/", views.flag_acknowledge_view, name="flag_acknowledge"),
]
