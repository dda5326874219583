"""Which assistants a sync covers: the configured ids, those the API lists, or those asked for."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pipeline.client import CallLogsClient, make_client
from pipeline.config import Settings, validate_assistant_id
from pipeline.errors import ConfigError

log = logging.getLogger(__name__)

CONFIGURED, DISCOVERED, REQUESTED = "configured", "discovered", "requested"


@dataclass(frozen=True)
class Roster:
    """The current assistant set and where it came from.

    ``requested`` (``calllogs sync --assistant``) is a subset chosen for one sync: assistants
    outside it are left alone, never taken for removed ones.
    """

    ids: tuple[str, ...]
    source: str
    names: Mapping[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.source != REQUESTED

    def retire_reason(self) -> str:
        if self.source == DISCOVERED:
            return (
                "no longer listed by GET /assistant/list (deleted on the platform, or the key "
                "lost it): its history stays in the warehouse and it is not synced any more"
            )
        return (
            "no longer in CALL_LOGS_ASSISTANT_IDS: its history stays in the warehouse and it is "
            "not synced any more"
        )


def resolve_roster(
    settings: Settings, client: CallLogsClient | None, *, only: Sequence[str] = ()
) -> Roster:
    """``only`` when given, else the configured ids, else every assistant the key owns."""
    if only:
        ids = tuple(dict.fromkeys(validate_assistant_id(a) for a in only))
        return Roster(ids=ids, source=REQUESTED)
    if settings.assistant_ids:
        return Roster(ids=tuple(settings.assistant_ids), source=CONFIGURED)
    if client is None:
        settings.require_api()
        raise ConfigError("discovering assistants needs the API; set CALL_LOGS_API_URL")
    names: dict[str, str] = {}
    for item in client.list_assistants():
        try:
            assistant = validate_assistant_id(str(item["assistant_id"]))
        except ConfigError as exc:
            log.warning("skipping an assistant the API listed: %s", exc)
            continue
        name = item.get("assistant_name")
        names[assistant] = name if isinstance(name, str) else ""
    return Roster(ids=tuple(sorted(names)), source=DISCOVERED, names=names)


def current_roster(settings: Settings, *, only: Sequence[str] = ()) -> Roster:
    """The roster a sync covers; the API is asked only when assistants are to be discovered."""
    if only or settings.assistant_ids:
        return resolve_roster(settings, None, only=only)
    with make_client(settings) as client:
        return resolve_roster(settings, client)
