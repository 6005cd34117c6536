"""Catalogue: what VMCloud sells and where.

Owns product families, offers (with their specs and prices), GPU models, OS
images and GPU software stacks, datacentres and capacity envelopes. Staff own
this data in the admin; it is seeded from VMCloud's product catalogue (typed once
in ``services/seed_data.py``, docs/dev/catalogue.md#seed) by ``manage.py load_catalogue``.

Offers to other apps:
- ``selectors``: ``offer_list_public`` / ``offer_get_public`` / ``offer_get``
  (retired included), ``family_list``, ``image_list``, ``gpu_stack_list``,
  ``datacentre_list`` / ``datacentre_get``, ``gpu_model_list``,
  ``capacity_envelope_get``, ``offer_availability`` (with
  ``availability_provider_register`` for the infrastructure layer),
  ``pricing_markdown`` (docs), ``catalogue_version`` (HTTP caching);
- ``services``: ``catalogue_load_seed``, ``offer_set_status`` / ``offers_set_status``;
- ``pricing``: the hourly rule and the monthly cap (``month_cost``);
- ``specs``: display strings of specs ("Unlimited", "1M+", "1.28 TB").
Interfaces: the public API under /api/v1/catalogue/, the /pricing/ pages, the admin.
"""
