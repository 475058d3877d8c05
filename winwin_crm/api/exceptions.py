"""API errors in DRF's shape, including Django ValidationErrors raised by services."""

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(exceptions.APIException):
    """409: the client acted on a stale copy (optimistic locking) or an illegal transition."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "This changed since you loaded it."
    default_code = "conflict"


def django_validation_error_detail(exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [
                msg for err in errors for msg in err.messages
            ]
            for field, errors in exc.error_dict.items()
        }
    return {"non_field_errors": exc.messages}


def exception_handler(exc, context):
    # Services validate with Django's ValidationError; turn it into a 400 with field errors.
    if isinstance(exc, RequestDataTooBig):
        # Django would answer 400 too, but as an HTML page: say it in the API's shape.
        return Response(
            {"detail": "Request body too large: see DATA_UPLOAD_MAX_MEMORY_SIZE."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DjangoValidationError):
        return Response(django_validation_error_detail(exc), status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
