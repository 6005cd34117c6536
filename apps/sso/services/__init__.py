"""SSO writes: configure an organisation's SAML connection and domains, consume assertions, provision members.

One module per topic (``docs/dev/style.md#app-shape``), every public service
re-exported here, so callers write ``from apps.sso import services`` then
``services.saml_connection_save(...)``:

* ``connections``: the SAML connection's settings and its IdP metadata (refresh, certificate rollover);
* ``domains``: claiming, verifying (DNS TXT record or staff) and removing the connection's domains;
* ``dns_txt``: the thin DNS client that reads a domain's TXT records;
* ``logins``: consumed assertion ids (replay protection) and recording an SSO login.
"""

from apps.sso.services.connections import (
    AUDITED_FIELDS,
    CONNECTION_FIELDS,
    METADATA_FIELDS,
    saml_connection_refresh_metadata,
    saml_connection_save,
    saml_connections_refresh_metadata,
)
from apps.sso.services.domains import (
    saml_domain_add,
    saml_domain_remove,
    saml_domain_verify,
    saml_domain_verify_dns,
)
from apps.sso.services.logins import (
    ASSERTION_MEMORY,
    saml_assertion_consume,
    saml_assertions_purge,
    saml_login_record,
)

__all__ = [
    "ASSERTION_MEMORY",
    "AUDITED_FIELDS",
    "CONNECTION_FIELDS",
    "METADATA_FIELDS",
    "saml_assertion_consume",
    "saml_assertions_purge",
    "saml_connection_refresh_metadata",
    "saml_connection_save",
    "saml_connections_refresh_metadata",
    "saml_domain_add",
    "saml_domain_remove",
    "saml_domain_verify",
    "saml_domain_verify_dns",
    "saml_login_record",
]
