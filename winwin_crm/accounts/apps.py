from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "winwin_crm.accounts"
    label = "accounts"
    verbose_name = "Users and teams"
