"""The buyer's pages under /buyer/<token>/ and the rep's share actions."""

from django.urls import path

from . import views

app_name = "buyer_room"
urlpatterns = [
    path("buyer/<str:token>/", views.room, name="room"),
    path("buyer/<str:token>/needs/add/", views.need_add, name="need_add"),
    path("buyer/<str:token>/needs/<int:need_id>/confirm/", views.need_confirm, name="need_confirm"),
    path("buyer/<str:token>/needs/<int:need_id>/change/", views.need_change, name="need_change"),
    path(
        "buyer/<str:token>/milestones/<int:milestone_id>/tick/",
        views.milestone_tick,
        name="milestone_tick",
    ),
    path(
        "buyer/<str:token>/milestones/<int:milestone_id>/date/",
        views.milestone_date,
        name="milestone_date",
    ),
    path("buyer/<str:token>/question/", views.question, name="question"),
    path("buyer/<str:token>/pulse/<int:meeting_id>/", views.pulse, name="pulse"),
    path("buyer/<str:token>/check-in/", views.check_in, name="check_in"),
    # the rep's side (login required like every staff page)
    path("deals/<int:pk>/buyer-room/share/", views.share_create, name="share_create"),
    path(
        "deals/<int:pk>/buyer-room/shares/<int:share_id>/resend/",
        views.share_resend,
        name="share_resend",
    ),
    path(
        "deals/<int:pk>/buyer-room/shares/<int:share_id>/revoke/",
        views.share_revoke,
        name="share_revoke",
    ),
    path(
        "buyer-room/check-ins/<int:check_in_id>/send/",
        views.check_in_send,
        name="check_in_send",
    ),
]
