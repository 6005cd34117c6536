"""The VMCloud Terraform provider, written in Python on the ``vmcloud`` SDK and the ``tf`` plugin framework.

Layout (docs page ``/docs/terraform/``):

- ``schemas.py``: every resource's and data source's fields, declared once as plain data
  (type, required/optional/computed, sensitive, forces replacement). A later port to
  HashiCorp's Go plugin framework reads the same declarations.
- ``resources.py`` / ``data_sources.py``: create, read, update, delete and import, each a
  few SDK calls; every long operation waits on its Action within ``timeouts``.
- ``cloud_resources.py``, ``managed_resources.py``, ``lb_resources.py``, ``alert_resources.py``:
  the network and storage resources, managed services, the load balancer (resource and data
  source), alert policies.
- ``provider.py``: the provider block (``url``, ``token``, ``organisation``) and the registry.
- ``mirror.py``: builds a filesystem mirror so that ``terraform init`` works offline.
"""

__version__ = "0.1.0"
