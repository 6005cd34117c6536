"""What kind of product an offer is, and whether the chosen image (and GPU software stack) fit it.

A VM offer needs an available image whose minimum RAM and disk the offer meets
(Windows Server images need more RAM: their ``min_ram_gb``); a GPU software
stack is only for GPU offers, and must be built on the chosen image; managed
services (web hosting, PaaS, LB, storage, CDN) take no image. The arguments are
the catalogue's ``Offer``, ``OsImage`` and ``GpuSoftwareStack`` rows (typed
``Any``: rules import no models).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from apps.catalogue import choices as catalogue_choices
from apps.orders.rules.errors import Errors, _add


def is_vm_offer(offer: Any) -> bool:
    return offer.family.kind == catalogue_choices.FamilyKind.VIRTUAL_MACHINE


def check_image(*, offer: Any, image: Any | None, gpu_stack: Any | None) -> Errors:
    """The image (and GPU stack) fit the offer."""
    errors: Errors = {}
    if not is_vm_offer(offer):
        if image is not None:
            _add(errors, "image", _("This product does not take an operating system image."))
        if gpu_stack is not None:
            _add(errors, "gpu_stack", _("This product does not take a GPU software stack."))
        return errors
    if image is None:
        _add(errors, "image", _("Choose an operating system image."))
        return errors
    if image.status != catalogue_choices.ImageStatus.AVAILABLE:
        _add(errors, "image", _("This image is no longer offered."))
    if offer.ram_gb is not None and offer.ram_gb < image.min_ram_gb:
        _add(
            errors,
            "image",
            _("%(image)s needs at least %(ram)s GB of RAM; choose a larger plan.")
            % {"image": image, "ram": image.min_ram_gb},
        )
    if offer.disk_gb is not None and offer.disk_gb < image.min_disk_gb:
        _add(
            errors,
            "image",
            _("%(image)s needs at least %(disk)s GB of disk; choose a larger plan.")
            % {"image": image, "disk": image.min_disk_gb},
        )
    if gpu_stack is not None:
        if not offer.is_gpu:
            _add(errors, "gpu_stack", _("GPU software stacks are for GPU offers only."))
        elif gpu_stack.base_image_id != image.pk:
            _add(errors, "gpu_stack", _("This GPU stack is built on %(base)s.") % {"base": gpu_stack.base_image})
        elif gpu_stack.status != catalogue_choices.ImageStatus.AVAILABLE:
            _add(errors, "gpu_stack", _("This GPU stack is no longer offered."))
    return errors
