"""Teams API: organisations, members, invitations, projects, tokens, audit events; and the
DRF authentication, permission and throttle classes every app's API uses."""
