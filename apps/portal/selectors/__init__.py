"""Portal reads: the public home's facts (``home``), the dashboard (``dashboard``) and the global search
(``search``), one module per page, and the whole-platform consistency checks (``consistency``, run by
``manage.py consistency_check``), re-exported here (docs/dev/style.md#app-shape)."""

from apps.portal.selectors.consistency import platform_consistency
from apps.portal.selectors.dashboard import (
    BudgetUse,
    ChecklistItem,
    DashboardOverview,
    dashboard_overview,
    onboarding_checklist,
)
from apps.portal.selectors.home import COUNTRY_NAMES, HERO_ROWS, DatacentreFacts, HomeFacts, home_facts
from apps.portal.selectors.search import SearchHit, SearchResults, search

__all__ = [
    "COUNTRY_NAMES",
    "HERO_ROWS",
    "BudgetUse",
    "ChecklistItem",
    "DashboardOverview",
    "DatacentreFacts",
    "HomeFacts",
    "SearchHit",
    "SearchResults",
    "dashboard_overview",
    "home_facts",
    "onboarding_checklist",
    "platform_consistency",
    "search",
]
