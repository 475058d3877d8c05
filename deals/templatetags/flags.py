"""`{% load flags %}`: a flag code in words, for pages that show flags they did not build."""

from django import template

from deals.health.catalog import flag_advice, flag_info

register = template.Library()


@register.filter
def flag_label(code: str) -> str:
    return flag_info(code).label


@register.filter
def flag_short(code: str) -> str:
    return flag_info(code).short


@register.filter(name="flag_advice")
def flag_advice_filter(code: str) -> str:
    return flag_advice(code)
