"""Driving the order create flow in a browser test without racing its htmx swaps.

Each pick of a card re-renders the flow (``#order-flow``, templates/orders/_order_flow.html); its
``data-key`` says which family, plan, datacentre, image and GPU stack the rendered flow was built for
(``family|offer|datacentre|image|stack``). Picking the next card before the flow for the previous pick
has landed lets that older answer reset the newer pick, so each pick waits for its own flow.
"""

from __future__ import annotations

from typing import Any

from apps.catalogue.models import Offer


def _pick(page: Any, selector: str, key_prefix: str) -> None:
    radio = page.locator(selector)
    if not radio.is_checked():
        radio.check()
    page.wait_for_selector(f'#order-flow[data-key^="{key_prefix}"]')


def wizard_choose(
    page: Any, *, offer: str, datacentre: str, image: str | None = None, gpu_stack: str | None = None
) -> None:
    """Pick the offer's family, the offer, the datacentre and (servers) the image and GPU stack."""
    family = Offer.objects.select_related("family").get(code=offer).family.slug
    _pick(page, f"#family-{family}", f"{family}|")
    _pick(page, f"#offer-{offer}", f"{family}|{offer}|")
    _pick(page, f"#datacentre-{datacentre}", f"{family}|{offer}|{datacentre}|")
    if image is not None:
        _pick(page, f'input[name="image"][value="{image}"]', f"{family}|{offer}|{datacentre}|{image}|")
    if gpu_stack is not None:
        _pick(
            page,
            f'input[name="gpu_stack"][value="{gpu_stack}"]',
            f"{family}|{offer}|{datacentre}|{image}|{gpu_stack}",
        )
