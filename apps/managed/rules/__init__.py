"""What a customer orders for a managed service, checked against the tier (pure: no database, no request).

One module per family plus what they share, every public name re-exported
here, so callers write ``from apps.managed import rules`` then
``rules.service_config_clean(offer=..., data=...)``:

* ``service_config``: ``service_config_clean`` (the order's ``service`` object → config and secrets) and
  ``service_family_of``; the module's docstring describes each family's fields;
* ``web_hosting``, ``paas``, ``cdn``, ``load_balancer``: each family's fields, limits and form choices
  (``load_balancer`` also holds ``lb_rules_parse``, the one parser of forwarding-rule lines);
* ``hosts``: DNS names and public hosts; ``fields``: reading fields and collecting problems.
"""

from apps.managed.rules.cdn import (
    CDN_CACHE_RULES_MAX,
    CDN_HOSTNAMES_MAX,
    CDN_PATH_RE,
    CDN_TTL_MAX,
    WAF_ORDER,
    OriginResolver,
    origin_url_problem,
    waf_choices,
)
from apps.managed.rules.fields import PREFIX
from apps.managed.rules.hosts import DNS_LABEL_RE, DNS_NAME_MAX, dns_name_clean, dns_name_display
from apps.managed.rules.load_balancer import (
    LB_PROTOCOLS,
    LB_RULE_KEYS,
    LB_RULES_MAX,
    LB_TARGET_PROTOCOLS,
    LB_TARGETS_MAX,
    lb_rules_parse,
    lb_rules_text,
)
from apps.managed.rules.paas import (
    BRANCH_FORBIDDEN_RE,
    BRANCH_MAX,
    ENV_MAX,
    ENV_NAME_RE,
    ENV_VALUE_MAX,
    IMAGE_NAME_MAX,
    IMAGE_REFERENCE_RE,
    PAAS_CLUSTER_MAX_CONTAINERS,
    PAAS_CONFIGURABLE_DEFAULT_RAM_GB,
    PAAS_CONFIGURABLE_RAM_GB,
    PAAS_ENVIRONMENTS,
    SCP_GIT_RE,
    branch_problem,
    git_url_problem,
    image_reference_problem,
    paas_ram_choices,
)
from apps.managed.rules.service_config import service_config_clean, service_family_of
from apps.managed.rules.web_hosting import (
    ONE_CLICK_TITLE,
    WEB_EXTRA_DOMAINS_MAX,
    WEB_RUNTIMES,
    one_click_apps,
    web_runtime_choices,
)

__all__ = [
    "BRANCH_FORBIDDEN_RE",
    "BRANCH_MAX",
    "CDN_CACHE_RULES_MAX",
    "CDN_HOSTNAMES_MAX",
    "CDN_PATH_RE",
    "CDN_TTL_MAX",
    "DNS_LABEL_RE",
    "DNS_NAME_MAX",
    "ENV_MAX",
    "ENV_NAME_RE",
    "ENV_VALUE_MAX",
    "IMAGE_NAME_MAX",
    "IMAGE_REFERENCE_RE",
    "LB_PROTOCOLS",
    "LB_RULES_MAX",
    "LB_RULE_KEYS",
    "LB_TARGETS_MAX",
    "LB_TARGET_PROTOCOLS",
    "ONE_CLICK_TITLE",
    "PAAS_CLUSTER_MAX_CONTAINERS",
    "PAAS_CONFIGURABLE_DEFAULT_RAM_GB",
    "PAAS_CONFIGURABLE_RAM_GB",
    "PAAS_ENVIRONMENTS",
    "PREFIX",
    "SCP_GIT_RE",
    "WAF_ORDER",
    "WEB_EXTRA_DOMAINS_MAX",
    "WEB_RUNTIMES",
    "OriginResolver",
    "branch_problem",
    "dns_name_clean",
    "dns_name_display",
    "git_url_problem",
    "image_reference_problem",
    "lb_rules_parse",
    "lb_rules_text",
    "one_click_apps",
    "origin_url_problem",
    "paas_ram_choices",
    "service_config_clean",
    "service_family_of",
    "waf_choices",
    "web_runtime_choices",
]
