from django.urls import path

from . import api

urlpatterns = [
    path("balance/", api.BalanceView.as_view(), name="dashboard-balance"),
    path("quadrant/", api.QuadrantView.as_view(), name="dashboard-quadrant"),
    path("trends/", api.TrendsView.as_view(), name="dashboard-trends"),
    path("reps/", api.RepsView.as_view(), name="dashboard-reps"),
    path("export.csv", api.ExportView.as_view(), name="dashboard-export"),
]
