"""Writes of the alerts app (docs/dev/style.md#services), one module per topic, re-exported here.

Callers write ``from apps.alerts import services`` then ``services.alert_policy_create(...)``:

* ``policies``: who may write a policy, the checks of its fields, the quota, create, update, rotate
  the webhook secret, delete; dismissing a portal notice;
* ``evaluation``: the beat evaluation (``alerts.evaluate``) that opens and resolves incidents;
* ``notification``: an incident's text and recipients, its e-mail, notice and webhook task, sent once;
* ``webhooks``: which URLs may receive webhooks, their body and signature, delivering one.
"""

from apps.alerts.services.evaluation import alert_policy_evaluate, alerts_evaluate_all
from apps.alerts.services.notification import alert_incident_notify, alert_incident_text, alert_recipients
from apps.alerts.services.policies import (
    MAX_EMAILS,
    UNSET,
    alert_notice_dismiss,
    alert_policy_authorise,
    alert_policy_create,
    alert_policy_delete,
    alert_policy_quota_check,
    alert_policy_secret_rotate,
    alert_policy_update,
)
from apps.alerts.services.webhooks import (
    WebhookTransientError,
    alert_webhook_deliver,
    alert_webhook_payload,
    alert_webhook_signature,
    alert_webhook_signature_verify,
    webhook_url_error,
)

__all__ = [
    "MAX_EMAILS",
    "UNSET",
    "WebhookTransientError",
    "alert_incident_notify",
    "alert_incident_text",
    "alert_notice_dismiss",
    "alert_policy_authorise",
    "alert_policy_create",
    "alert_policy_delete",
    "alert_policy_evaluate",
    "alert_policy_quota_check",
    "alert_policy_secret_rotate",
    "alert_policy_update",
    "alert_recipients",
    "alert_webhook_deliver",
    "alert_webhook_payload",
    "alert_webhook_signature",
    "alert_webhook_signature_verify",
    "alerts_evaluate_all",
    "webhook_url_error",
]
