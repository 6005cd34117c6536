"""The back office: the staff's Django admin site, reorganised around their work.

Owns the custom ``AdminSite`` (installed in place of ``django.contrib.admin`` through
``admin.config.BackOfficeAdminConfig``, so every app's ``admin.site.register`` lands on it),
its landing page of work queues, the organisation page of a support call, the fleet pages,
the search box, staff notes and the staff roles (Django groups). It sits on top of every
other app and nothing imports it (apps/docs/content/back-office.md).
"""
