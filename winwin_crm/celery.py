"""The Celery application: configured from Django settings (CELERY_*), JSON only."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "winwin_crm.settings")

app = Celery("winwin_crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
