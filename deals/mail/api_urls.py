from django.urls import path

from . import api

urlpatterns = [path("mail/", api.MailCaptureApi.as_view(), name="mail-capture")]
