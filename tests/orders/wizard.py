"""Driving the order wizard in a browser test without racing its htmx swaps.

Each pick re-renders the datacentre, image and stack fields (``#order-choices``,
templates/orders/_order_choices.html); its ``data-key`` says which plan,
datacentre and image the rendered block was built for. Picking the next field
before the block for the previous pick has landed lets that older answer reset
the newer pick (the form then comes back with "choose an image"), so each pick
waits for its own block.
"""

from __future__ import annotations

from typing import Any


def wizard_choose(page: Any, *, offer: str, datacentre: str, image: str | None = None) -> None:
    page.select_option("#id_offer", offer)
    page.wait_for_selector(f'#order-choices[data-key^="{offer}|"]')
    page.select_option("#id_datacentre", datacentre)
    page.wait_for_selector(f'#order-choices[data-key^="{offer}|{datacentre}|"]')
    if image is not None:
        page.select_option("#id_image", image)
        page.wait_for_selector(f'#order-choices[data-key="{offer}|{datacentre}|{image}"]')
