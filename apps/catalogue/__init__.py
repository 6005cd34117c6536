"""Catalogue: what VMCloud sells and where.

Owns product families, offers (with their specs and prices), GPU models, OS
images and GPU software stacks, datacentres and capacity envelopes. Staff own
this data in the admin; it is seeded from ``shared/seed/catalogue-vmcloud.md``
by ``manage.py load_catalogue``. Other apps read it through ``selectors`` and
refer to offers, images and datacentres by foreign key.
"""
