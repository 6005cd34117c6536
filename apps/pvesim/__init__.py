"""pvesim: a Proxmox VE API simulator for development and tests (not production code).

Serves ``/api2/json`` over HTTPS like a PVE cluster (tokens, UPID tasks, locks,
GPU passthrough through cluster PCI mappings, PVE's error texts and reason
phrases), validates every request against Proxmox's official schema read at
run time, and offers fault injection. Started with ``manage.py pvesim`` (the
Procfile's ``pvesim`` process) or by the ``pvesim`` pytest fixture
(``tests/pvesim_fixtures.py``). Production apps never import it (import-linter
contract); it imports no other app.
"""
