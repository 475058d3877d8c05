"""Login required everywhere except the few public paths in settings.LOGIN_EXEMPT_PATHS."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login


class LoginRequiredEverywhereMiddleware:
    """Pages redirect anonymous users to the login page.

    API paths are left to DRF, whose authentication classes answer 401/403 with a JSON
    body; token-authenticated requests are not visible to this middleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.exempt = tuple(settings.LOGIN_EXEMPT_PATHS)

    def __call__(self, request):
        path = request.path
        if (
            request.user.is_authenticated
            or path.startswith(self.exempt)
            or path.startswith(("/api/v1/", "/api/schema/"))
        ):
            return self.get_response(request)
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
