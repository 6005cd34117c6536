"""Load balancers run by the platform (issue 14, "Load balancers, automated").

The engine, as pure modules with no database: ``spec`` (what a load balancer is, as
the generator needs it), ``haproxy`` (the HAProxy configuration rendered from a spec,
and what the engine refuses), ``certificates`` (an uploaded PEM certificate, chain and
key checked, and the bundle HAProxy reads), ``health`` (HAProxy's runtime API output
read into per-target health) and ``delivery`` (how a configuration reaches the VM:
cloud-init on first boot, guest-agent file writes and commands later). The
LoadBalancer resource (models, services, API, portal) builds on these.
"""
