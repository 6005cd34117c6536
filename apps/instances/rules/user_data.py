"""Cloud-init user-data: its size and formats (docs: apps/docs/content/instances.md, "User-data").

At most 64 KiB of UTF-8 (the limit of most clouds' metadata services), in one
of cloud-init's formats
(https://cloudinit.readthedocs.io/en/latest/explanation/format.html); a
``#cloud-config`` document must be YAML that parses to a mapping. Whether the
datacentre can deliver it is a question for the database
(``apps.instances.services.user_data_check``).
"""

from __future__ import annotations

import yaml
from django.utils.translation import gettext as _

MAX_USER_DATA = 64 * 1024
# cloud-init matches these case-insensitively after leading whitespace (``handlers.type_from_starts_with``).
USER_DATA_FORMATS = ("#cloud-config", "#!", "#include", "#cloud-boothook", "content-type: multipart/")


def user_data_problems(user_data: str) -> list[str]:
    """Messages saying what is wrong with non-empty ``user_data`` (empty when cloud-init can take it)."""
    try:
        size = len(user_data.encode("utf-8"))
    except UnicodeEncodeError:
        return [_("User-data must be UTF-8 text.")]
    if size > MAX_USER_DATA:
        return [_("User-data is limited to 64 KiB.")]
    head = user_data.lstrip()
    if not head.lower().startswith(USER_DATA_FORMATS):
        return [
            _(
                "User-data must start with #cloud-config, #! (a script), #include, #cloud-boothook "
                "or Content-Type: multipart/ (a MIME multipart message)."
            )
        ]
    if head.split("\n", 1)[0].strip().lower() != "#cloud-config":
        return []
    try:
        document = yaml.safe_load(user_data)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = (
            _("line %(line)s, column %(column)s") % {"line": mark.line + 1, "column": mark.column + 1}
            if mark is not None
            else _("unknown position")
        )
        return [
            _("#cloud-config is not valid YAML (%(where)s): %(problem)s") % {"where": where, "problem": exc.problem}
        ]
    except yaml.YAMLError as exc:
        return [_("#cloud-config is not valid YAML: %(error)s") % {"error": exc}]
    if document is not None and not isinstance(document, dict):
        return [_("#cloud-config must be a YAML mapping (keys such as packages:, runcmd:, write_files:).")]
    return []
