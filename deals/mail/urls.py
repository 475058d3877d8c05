from django.urls import path

from . import views

app_name = "mail"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/assign/", views.assign, name="assign"),
    path("<int:pk>/discard/", views.discard, name="discard"),
    path("activities/<int:activity_id>/", views.activity_mail, name="activity_mail"),
    path(
        "activities/<int:activity_id>/delete/",
        views.activity_mail_delete,
        name="activity_mail_delete",
    ),
    path("deals/<int:pk>/upload/", views.upload, name="upload"),
]
