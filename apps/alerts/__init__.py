"""Monitoring alerts (issue 16, "Monitoring alerts"): alert policies on servers' metrics, as DigitalOcean has them.

Owns ``AlertPolicy`` (a metric of one server or of the servers a label selector picks, a comparison, a
threshold, a duration and notification channels), ``AlertIncident`` (one per policy and server while the
condition holds: it opens once and says when it resolves) and ``AlertNotice`` (what the portal shows).
A beat task (``alerts.evaluate``, every minute) reads the servers' metrics through
``apps.instances.services.instance_metrics`` (Proxmox ``rrddata``) and opens or resolves incidents;
notifications leave on commit: e-mail, a portal notice and a signed webhook (``alerts.webhook_send``).
Docs: apps/docs/content/alerts.md.
"""
