"""Managed services (issue 14): web hosting, PaaS, load balancers and CDN as resources with a lifecycle.

A ``ManagedService`` is what a customer owns after buying a managed offer: a
project, labels, a state (provisioning → active → changing / suspended →
cancelled / terminated), an audit trail (``ServiceTransition``) and the price
periods billing meters (``ServicePricePeriod``, same cap rule as servers).
Each family is delivered by a backend behind one small interface
(``apps.managed.backends``); the staff backend puts the service in the back
office's fulfilment queue. Orders (above) create services; billing (above)
meters and terminates them through ``services``.
"""
