"""How the fake Telegram server reads a Bot API call's parameters from an HTTP request."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from aiohttp import web

_INT_FIELDS = {"chat_id", "message_id", "user_id", "offset", "limit", "message_thread_id",
               "reply_to_message_id", "cache_time", "max_connections"}
_FLOAT_FIELDS = {"timeout"}
_BOOL_FIELDS = {"show_alert", "drop_pending_updates", "disable_notification", "protect_content",
                "disable_web_page_preview", "has_spoiler", "allow_paid_broadcast"}
_JSON_FIELDS = {"reply_markup", "allowed_updates", "commands", "scope", "entities",
                "caption_entities", "link_preview_options", "reply_parameters"}


async def read_params(request: web.Request) -> dict[str, Any]:
    """Query string plus a JSON, urlencoded or multipart body, coerced like the Bot API does."""
    raw: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            raw.update(await request.json())
        else:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    raw[key] = value.file.read()
                    raw.setdefault("_filenames", {})[key] = value.filename
                else:
                    raw[key] = value
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str):
            if key in _JSON_FIELDS:
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            elif key in _INT_FIELDS or key in _FLOAT_FIELDS:
                with contextlib.suppress(ValueError):
                    value = float(value) if key in _FLOAT_FIELDS else int(value)
            elif key in _BOOL_FIELDS:
                value = value.lower() == "true"
        params[key] = value
    return params
