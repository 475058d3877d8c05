from django.urls import path

from . import api

urlpatterns = [
    path("balance/", api.BalanceView.as_view(), name="dashboard-balance"),
    path("quadrant/", api.QuadrantView.as_view(), name="dashboard-quadrant"),
    path("trends/", api.TrendsView.as_view(), name="dashboard-trends"),
    path("reps/", api.RepsView.as_view(), name="dashboard-reps"),
    path("outcomes/", api.OutcomesView.as_view(), name="dashboard-outcomes"),
    path("calibration/", api.CalibrationView.as_view(), name="dashboard-calibration"),
    path("forecast/", api.ForecastView.as_view(), name="dashboard-forecast"),
    path("export.csv", api.ExportView.as_view(), name="dashboard-export"),
]
