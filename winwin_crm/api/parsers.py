"""Request parsing that fails with a 400, never a 500, and never reads without bound."""

import codecs
import json
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings
from rest_framework.utils import json as drf_json


class SafeJSONParser(JSONParser):
    """DRF's JSON parser with two limits DRF lacks: a body over DATA_UPLOAD_MAX_MEMORY_SIZE
    is refused before it is decoded (DRF reads the raw stream, which Django's own cap does
    not cover), and absurdly deep nesting (`[[[[…`) is a 400 instead of the decoder's
    RecursionError surfacing as a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if limit is not None and len(raw) > limit:
            raise ParseError(f"Request body too large: at most {limit} bytes.")
        try:
            text = codecs.decode(raw, encoding)
            parse_constant = drf_json.strict_constant if api_settings.STRICT_JSON else None
            return json.loads(text, parse_constant=parse_constant)
        except RecursionError as exc:
            raise ParseError("JSON parse error - nested too deeply.") from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
