from django.urls import path

from deals import views

app_name = "deals"
urlpatterns = [
    path("", views.deal_list, name="deal_list"),
    path("new/", views.deal_create, name="deal_create"),
    path("<int:pk>/", views.deal_detail, name="deal_detail"),
    path("<int:pk>/discovery-call/", views.discovery_call_create, name="discovery_call_create"),
    # htmx parts of the deal page (each also works as a plain form post)
    path("<int:pk>/summary/", views.deal_summary, name="deal_summary"),
    path("<int:pk>/section/<slug:section>/", views.deal_section, name="deal_section"),
    path("<int:pk>/edit/", views.deal_edit, name="deal_edit"),
    path("<int:pk>/stage/", views.deal_stage, name="deal_stage"),
    path("<int:pk>/needs/add/", views.need_add, name="need_add"),
    path("<int:pk>/needs/<int:need_id>/edit/", views.need_edit, name="need_edit"),
    path("<int:pk>/line-items/add/", views.line_item_add, name="line_item_add"),
    path("<int:pk>/line-items/<int:item_id>/edit/", views.line_item_edit, name="line_item_edit"),
    path(
        "<int:pk>/line-items/<int:item_id>/delete/",
        views.line_item_delete,
        name="line_item_delete",
    ),
    path("<int:pk>/milestones/add/", views.milestone_add, name="milestone_add"),
    path(
        "<int:pk>/milestones/<int:milestone_id>/toggle/",
        views.milestone_toggle,
        name="milestone_toggle",
    ),
    path("<int:pk>/activities/add/", views.activity_add, name="activity_add"),
    path("<int:pk>/concessions/add/", views.concession_add, name="concession_add"),
    path("<int:pk>/commitments/add/", views.commitment_add, name="commitment_add"),
    path(
        "<int:pk>/commitments/<int:commitment_id>/status/",
        views.commitment_status,
        name="commitment_status",
    ),
    path("<int:pk>/disclosures/add/", views.disclosure_add, name="disclosure_add"),
]
