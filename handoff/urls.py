from django.urls import path

from . import views

app_name = "handoff"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/notes/", views.notes, name="notes"),
    path("<int:pk>/claim/", views.claim, name="claim"),
    path("<int:pk>/ask/", views.ask, name="ask"),
    path("<int:pk>/answer/", views.answer, name="answer"),
    path("<int:pk>/accept/", views.accept, name="accept"),
    path("<int:pk>/checklist/<int:item_id>/", views.checklist_toggle, name="checklist_toggle"),
    path(
        "<int:pk>/commitments/<int:commitment_id>/",
        views.commitment_status,
        name="commitment_status",
    ),
    path("<int:pk>/check-ins/<int:check_in_id>/", views.check_in_record, name="check_in_record"),
]
