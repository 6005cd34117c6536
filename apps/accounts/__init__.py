"""Accounts: the user model (email is the login) and personal account settings.

Offers ``User`` to every app (through ``settings.AUTH_USER_MODEL``).
"""
