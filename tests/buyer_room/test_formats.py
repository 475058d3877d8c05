"""The buyer room writes money one way: "USD 900.00", never "900.00 USD"."""

import re


def test_the_buyer_room_shows_money_currency_first_with_two_decimals(client, token):
    html = client.get(f"/buyer/{token}/").content.decode()
    assert "USD 90.00" in html  # unit price
    assert "USD 900.00" in html  # the line and the total
    assert not re.search(r"\d USD", html)
