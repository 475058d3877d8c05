"""Static files storage for production (DEBUG=false)."""

import re
from collections.abc import Callable
from typing import Any

from whitenoise.storage import CompressedManifestStaticFilesStorage

_SOURCE_MAP = re.compile(r"sourceMappingURL=", re.IGNORECASE)


class ManifestStaticStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's hashed, compressed storage that tolerates a missing source map.

    Vendored minified libraries (Chart.js) end with `//# sourceMappingURL=x.map` but ship
    without the map; Django's manifest storage then fails the whole `collectstatic`. A
    reference to a source map that is not there is dropped instead (devtools only ever
    used it); every other missing reference still fails loudly.
    """

    def url_converter(
        self, name: str, hashed_files: dict[str, Any], template: str | None = None
    ) -> Callable[[re.Match[str]], str]:
        convert = super().url_converter(name, hashed_files, template)

        def converter(matchobj: re.Match[str]) -> str:
            try:
                return convert(matchobj)
            except ValueError:
                if _SOURCE_MAP.search(matchobj.group("matched")):
                    return ""
                raise

        return converter
