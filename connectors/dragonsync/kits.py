"""The kits to poll, from kits.yaml (the WarDragon Analytics format):

    kits:
      - id: kit-north
        name: North gate
        api_url: http://192.168.1.100:8088
        location: gate 3
        enabled: true

The per-kit `poll_interval` some files carry is accepted and ignored, as WarDragon Analytics
does: one POLL_INTERVAL applies to every kit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from aegis.config import ConfigError

_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


@dataclass(frozen=True)
class Kit:
    id: str
    api_url: str
    name: str | None = None
    location: str | None = None
    enabled: bool = True


def parse_kits(doc: Any, source: str = "kits.yaml") -> list[Kit]:
    items = doc.get("kits") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise ConfigError(f"{source}: expected a top-level 'kits:' list")
    kits: list[Kit] = []
    for n, item in enumerate(items):
        where = f"{source}: kits[{n}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: expected a mapping with id and api_url")
        kit_id, url = item.get("id"), item.get("api_url")
        if not isinstance(kit_id, str) or not _ID.match(kit_id):
            raise ConfigError(f"{where}: 'id' must be 1-128 characters of letters, digits, _ . : -")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigError(f"{where} ({kit_id}): 'api_url' must be an http(s) URL such as "
                              "http://192.168.1.100:8088")
        enabled = item.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(f"{where} ({kit_id}): 'enabled' must be true or false")
        kits.append(Kit(id=kit_id, api_url=url.rstrip("/"), name=item.get("name"),
                        location=item.get("location"), enabled=enabled))
    dupes = sorted({k.id for k in kits if sum(1 for o in kits if o.id == k.id) > 1})
    if dupes:
        raise ConfigError(f"{source}: duplicate kit ids {dupes}")
    return kits


def load_kits(path: Path) -> list[Kit]:
    if not path.exists():
        raise ConfigError(f"kits file {path} not found: set dragonsync.kits_config or KITS_CONFIG, "
                          "or write one with `aegis dragonsync emulate --write-kits PATH`")
    with open(path) as f:
        return parse_kits(yaml.safe_load(f), str(path))


def kits_yaml(kits: list[Kit]) -> str:
    doc = {"kits": [{"id": k.id, "name": k.name, "api_url": k.api_url, "location": k.location,
                     "enabled": k.enabled} for k in kits]}
    return yaml.safe_dump(doc, sort_keys=False)
