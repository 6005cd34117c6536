"""Pure rules of the load balancers: the engine, with no database and no model imported (docs/dev/style.md#app-shape).

Text and dataclasses in, text and dataclasses out; ``apps.loadbalancers.services`` reads the rows,
calls these and runs what they return (apps/docs/content/load-balancer-engine.md):

* ``spec``: what a load balancer is (``LoadBalancerSpec``), its validation and the tier's limits;
* ``haproxy``: HAProxy's configuration rendered from a spec, and what the engine refuses;
* ``certificates``: an uploaded certificate, chain and key checked, and the bundle HAProxy reads;
* ``health``: each target's health read from HAProxy's runtime API output;
* ``delivery``: how a configuration reaches the VM (first-boot user-data, the guest agent's plan).
"""
