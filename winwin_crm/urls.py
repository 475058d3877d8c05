from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from winwin_crm import views
from winwin_crm.api.auth import (
    LogoutEverywhereView,
    ObtainTokenView,
    TokenListView,
    TokenRevokeView,
)

api_v1: list[URLPattern | URLResolver] = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("auth/tokens/", TokenListView.as_view(), name="api-tokens"),
    path("auth/tokens/<str:token_key>/", TokenRevokeView.as_view(), name="api-token-revoke"),
    path("auth/logout-all/", LogoutEverywhereView.as_view(), name="api-logout-all"),
    path("", include("deals.api.urls")),
    path("", include("deals.health.urls")),
    path("dashboard/", include("deals.dashboard.api_urls")),
    path("", include("deals.imports.api_urls")),
    path("", include("handoff.api_urls")),
    path("", include("deals.buyer_room.api_urls")),
    path("", include("deals.mail.api_urls")),
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("deals/", include("deals.urls")),
    path("dashboard/", include("deals.dashboard.urls")),
    path("imports/", include("deals.imports.urls")),
    path("handoffs/", include("handoff.urls")),
    path("", include("deals.buyer_room.urls")),  # /buyer/<token>/ and the rep's share actions
    path("notifications/", include("winwin_crm.notifications.urls")),
    path("mail/", include("deals.mail.urls")),
]

handler403 = "winwin_crm.errors.permission_denied"
handler404 = "winwin_crm.errors.page_not_found"
handler500 = "winwin_crm.errors.server_error"
