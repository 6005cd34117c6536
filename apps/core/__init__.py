"""Core: what every app builds on and that depends on no other app.

Offers: ``TimeStampedModel``, ``ApplicationError`` and its error codes, the one
API exception handler and error body, pagination, the request context
(request id, IP, user agent) and the append-only audit log (``AuditEvent`` and
``audit_record``).
"""
