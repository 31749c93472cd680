"""Static files built by scripts/build-assets.mjs, served from memory.

Names carry a content hash, so responses are cached for a year as immutable; each file is served
pre-compressed (brotli or gzip, as the browser accepts) without compressing on the fly.
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

IMMUTABLE = "public, max-age=31536000, immutable"


class AssetsMissing(RuntimeError):
    """The static files were not built (make assets)."""


@dataclass(frozen=True)
class Asset:
    content_type: str
    raw: bytes
    gzip: bytes
    brotli: bytes


class StaticFiles:
    """The built assets: logical name -> fingerprinted URL, and the bytes to serve."""

    def __init__(self, directory: Path) -> None:
        manifest = directory / "manifest.json"
        if not manifest.exists():
            raise AssetsMissing(f"{manifest} is missing: run `make assets` to build static files")
        self.names: dict[str, str] = json.loads(manifest.read_text())
        self.files: dict[str, Asset] = {}
        for hashed in self.names.values():
            path = directory / hashed
            content_type = mimetypes.guess_type(hashed)[0] or "application/octet-stream"
            if content_type.startswith("text/") or content_type.endswith("javascript"):
                content_type += "; charset=utf-8"
            self.files[hashed] = Asset(
                content_type=content_type,
                raw=path.read_bytes(),
                gzip=path.with_name(hashed + ".gz").read_bytes(),
                brotli=path.with_name(hashed + ".br").read_bytes(),
            )

    def url(self, name: str) -> str:
        """The URL of a built asset, by its name before fingerprinting (e.g. app.css)."""
        return f"/static/{self.names[name]}"


def accepted_encodings(header: str) -> set[str]:
    """Content codings an Accept-Encoding header allows (those with q=0 are refused)."""
    allowed = set()
    for part in header.lower().split(","):
        coding, _, params = part.strip().partition(";")
        quality = params.strip().removeprefix("q=")
        if coding and quality not in {"0", "0.0", "0.00", "0.000"}:
            allowed.add(coding.strip())
    return allowed


@get("/static/{name:str}", include_in_schema=False)
async def static_file(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[bytes]:
    """Serve one built asset, pre-compressed when the browser accepts it."""
    static: StaticFiles = request.app.state.static
    asset = static.files.get(name)
    if asset is None:
        raise NotFoundException()
    accepted = accepted_encodings(request.headers.get("accept-encoding", ""))
    headers = {"cache-control": IMMUTABLE, "vary": "Accept-Encoding"}
    body = asset.raw
    if "br" in accepted:
        body, headers["content-encoding"] = asset.brotli, "br"
    elif "gzip" in accepted:
        body, headers["content-encoding"] = asset.gzip, "gzip"
    return Response(content=body, media_type=asset.content_type, headers=headers)
