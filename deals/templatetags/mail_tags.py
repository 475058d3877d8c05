from django import template

from deals.mail.addresses import deal_drop_address

register = template.Library()


@register.simple_tag
def deal_mail_address(deal_id: int) -> str:
    """The deal's signed drop address, to BCC or forward mail to."""
    return deal_drop_address(deal_id)
