from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "winwin_crm.accounts"
    label = "accounts"
    verbose_name = "Users and teams"

    def ready(self) -> None:
        # Registers the receiver that revokes API tokens when a password changes.
        from winwin_crm.api import auth  # noqa: F401
