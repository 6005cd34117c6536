"""SSO: SAML single sign-on per organisation, and the identity glue that needs organisations.

Owns ``SamlConnection`` (one IdP per organisation), ``SamlDomain`` (email
domains routed to it, unique across organisations) and ``SamlAssertionUse``
(assertion ids already consumed, for replay protection).

It sits above apps.teams and below the catalogue in the layer contract, which
makes it the home of everything in sign-in that must know organisations:

* ``adapters.PortalAccountAdapter`` (``ACCOUNT_ADAPTER``): the personal
  organisation at sign-up (teams' ``personal_organisation_ensure``), password
  login refused for "SSO required" domains.
* ``adapters.PortalSocialAccountAdapter`` (``SOCIALACCOUNT_ADAPTER``): serves
  allauth one SAML ``SocialApp`` per enabled connection, built on the fly from
  ``SamlConnection`` (nothing is copied into allauth's tables), and creates
  the just-in-time membership with the connection's default role.
* ``saml_provider.OrganisationSAMLProvider``: allauth's SAML provider plus
  replay protection and an audit event per SSO login.
* ``middleware.MfaRequiredMiddleware``: members of an organisation that
  requires MFA are sent to the MFA setup page until they enrol.
* the ``user_deletion_requested`` receiver: account deletion is refused while
  the user is the last owner of an organisation with other members.
"""
