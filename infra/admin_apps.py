"""Django's admin app with Careflow's site (infra/admin_site.py) as ``admin.site``."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class CareflowAdminConfig(AdminConfig):
    default_site = "infra.admin_site.CareflowAdminSite"
