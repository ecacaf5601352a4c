"""The sale page's product cards as the tests read them (the markup is reservations/cards.py's)."""

from __future__ import annotations

import re

# A card: <article ...>[picture]<h3 id=n<item id>>...</article>
CARD = re.compile(r"(<article[^>]*>(?:<img[^>]*>)?<h3 id=n(\d+)>.*?</article>)", re.S)


def card_order(html: str) -> list[str]:
    """Item ids of the cards, in the page's order."""
    return [item for _, item in CARD.findall(html)]


def cards_by_item(html: str) -> dict[str, str]:
    """Item id -> the card's whole markup."""
    return {item: card for card, item in CARD.findall(html)}
