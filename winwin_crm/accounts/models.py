from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models


class User(AbstractUser):
    """A person using WinWin CRM. Roles are the groups `rep`, `manager` and `delivery`."""

    class Meta:
        ordering = ["username"]

    def __str__(self):
        return self.get_full_name() or self.username


class Team(models.Model):
    """A sales team (reps and their manager) or a delivery team (picks up handoffs)."""

    class Kind(models.TextChoices):
        SALES = "sales", "Sales"
        DELIVERY = "delivery", "Delivery"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SALES)
    manager = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
        help_text="The sales manager who reviews this team's deals.",
    )
    members = models.ManyToManyField(User, blank=True, related_name="teams")
    default_delivery_team = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"kind": Kind.DELIVERY},
        help_text="Where this sales team's closed-won deals are handed off.",
    )
    default_currency = models.CharField(
        max_length=3,
        default="USD",
        validators=[RegexValidator(r"^[A-Z]{3}$", "A three-letter ISO 4217 code, e.g. EUR.")],
        help_text="ISO 4217 code an import gives deals whose file names no currency.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
