"""Contexts: named (URL, token, project) sets in one TOML file, like ``hcloud context``.

The file is ``$VMCL_CONFIG``, else ``$XDG_CONFIG_HOME/vmcl/config.toml``
(``~/.config/vmcl/config.toml``). It holds tokens, so it is written with mode
0600 in a 0700 folder, atomically (a temporary file renamed over it).
``VMCL_URL`` and ``VMCL_TOKEN`` (for CI) take precedence over the context.
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def config_path() -> Path:
    if os.environ.get("VMCL_CONFIG"):
        return Path(os.environ["VMCL_CONFIG"]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "vmcl" / "config.toml"


@dataclass
class Context:
    name: str
    url: str
    token: str
    project: int | None = None


@dataclass
class Config:
    active: str = ""
    contexts: dict[str, Context] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None = None) -> Config:
        path = path or config_path()
        if not path.exists():
            return cls()
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            from vmcloud.errors import ConfigurationError

            raise ConfigurationError(f"cannot read {path}: {exc}") from None
        contexts = {}
        for item in data.get("contexts", []):
            project = item.get("project")
            contexts[item["name"]] = Context(
                name=str(item["name"]),
                url=str(item.get("url", "")),
                token=str(item.get("token", "")),
                project=int(project) if project is not None else None,
            )
        return cls(active=str(data.get("active_context", "")), contexts=contexts)

    def save(self, path: Path | None = None) -> Path:
        path = path or config_path()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lines = [f"active_context = {_toml(self.active)}", ""]
        for context in self.contexts.values():
            lines += ["[[contexts]]", f"name = {_toml(context.name)}", f"url = {_toml(context.url)}"]
            lines.append(f"token = {_toml(context.token)}")
            if context.project is not None:
                lines.append(f"project = {int(context.project)}")
            lines.append("")
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".toml")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write("\n".join(lines))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        os.chmod(path, 0o600)
        return path


def _toml(value: str) -> str:
    # A TOML basic string is a JSON string for everything a URL, name or token holds.
    return json.dumps(value, ensure_ascii=False)


def resolve(context_name: str | None = None) -> tuple[str, str, int | None, str]:
    """(url, token, default project, where from) for this invocation."""
    from vmcloud.errors import ConfigurationError

    config = Config.load()
    name = context_name or os.environ.get("VMCL_CONTEXT") or config.active
    context: Context | None = None
    if name:
        context = config.contexts.get(name)
        if context is None and (context_name or os.environ.get("VMCL_CONTEXT")):
            raise ConfigurationError(f"no context named {name!r} (see `vmcl context list`)")
    url = os.environ.get("VMCL_URL") or (context.url if context else "")
    token = os.environ.get("VMCL_TOKEN") or (context.token if context else "")
    if not url or not token:
        raise ConfigurationError("no context: run `vmcl context create NAME --url URL`, or set VMCL_URL and VMCL_TOKEN")
    source = "environment" if os.environ.get("VMCL_TOKEN") else f"context {name}"
    return url, token, (context.project if context else None), source


def as_rows(config: Config) -> list[dict[str, Any]]:
    return [
        {"active": "*" if c.name == config.active else "", "name": c.name, "url": c.url, "project": c.project}
        for c in config.contexts.values()
    ]
