"""What the rep forms share: date and time inputs, the importance choices."""

from django import forms
from django.utils import timezone

DATETIME_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def now_for_input():
    return timezone.localtime().replace(second=0, microsecond=0)


IMPORTANCE_CHOICES = [
    (5, "5 · critical"),
    (4, "4 · important"),
    (3, "3 · matters"),
    (2, "2 · minor"),
    (1, "1 · nice to have"),
]
