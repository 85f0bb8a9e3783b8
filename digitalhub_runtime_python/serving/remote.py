"""A request's input read from a URL (a request's ``url``): http(s) or S3, only under the prefixes the server
allows (``DIGITALHUB_SERVE_INPUT_URLS``), never more bytes than a request body may have, with the code fetchers'
timeout and bounded copy."""

from __future__ import annotations

import io
import json
import mimetypes
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

from digitalhub_runtime_python.serving.commands import CommandSpec
from digitalhub_runtime_python.serving.errors import RequestError
from digitalhub_runtime_python.serving.events import BodyError, decode_body
from digitalhub_runtime_python.serving.media import DataURI
from digitalhub_runtime_python.sources.archives import Limits
from digitalhub_runtime_python.sources.downloads import TooLarge, copy_bounded
from digitalhub_runtime_python.sources.http import TIMEOUT, USER_AGENT

GENERIC_TYPES = ("", "application/octet-stream", "binary/octet-stream")
FILE_TYPES = ("file", "image")  # data types whose value a non-JSON url content can be


def url_error(url: str, problem: str) -> RequestError:
    return RequestError(400, f"url {_shown(url)}: {problem}")


def _shown(url: str) -> str:
    """The URL without its query (a presigned URL's signature stays out of messages and logs)."""
    return repr(url.partition("?")[0])


@dataclass(frozen=True)
class Fetched:
    """What a URL held: its bytes, media type (from the server, else guessed from the name) and file name."""

    data: bytes
    media_type: str
    name: str

    @property
    def is_json(self) -> bool:
        return self.media_type == "application/json" or self.media_type.endswith("+json")

    def body(self, url: str) -> Any:
        """The content as a handler's ``event.body``: parsed JSON, else bytes."""
        try:
            return decode_body(self.data, self.media_type)
        except BodyError:
            raise url_error(url, "the content is JSON by its type but does not parse") from None

    def inputs_for(self, spec: CommandSpec, url: str) -> Any:
        """A command's inputs: the JSON content, or a data URI for its only file or image input."""
        if self.is_json:
            try:
                return json.loads(self.data)
            except ValueError as exc:
                raise url_error(url, f"the content is not valid JSON ({exc})") from None
        fields = spec.inputs.model_json_schema().get("properties", {}) if spec.inputs else {}
        files = [name for name, schema in fields.items() if schema.get("x-data-type") in FILE_TYPES]
        if len(files) != 1:
            raise url_error(
                url,
                f"its content is {self.media_type}, and command {spec.name!r} takes it only as JSON inputs, or as its "
                "one file or image input: serve JSON (application/json, or a .json name)",
            )
        return {files[0]: str(DataURI(self.media_type, self.data, self.name))}


class UrlReader:
    """Reads inputs from URLs under ``prefixes``, at most ``max_bytes`` each (0: the download limit,
    DIGITALHUB_MAX_ARCHIVE_BYTES)."""

    def __init__(self, prefixes: list[str], max_bytes: int):
        self.prefixes = tuple(prefixes)
        self.max_bytes = max_bytes or Limits.from_env().max_bytes

    def check(self, url: str) -> None:
        """Refuse (400) a URL the server may not read: outside the prefixes, or with credentials in it."""
        if not self.prefixes:
            raise url_error(url, "this server reads no inputs from URLs (DIGITALHUB_SERVE_INPUT_URLS is [])")
        if not url.startswith(self.prefixes):
            raise url_error(url, f"not under the prefixes this server reads from: {', '.join(self.prefixes)}")
        if urlparse(url).username is not None:
            raise url_error(url, "credentials in a URL are refused: use a presigned URL or the server's S3 access")

    def read(self, url: str) -> Fetched:
        """The URL's content (blocking: call it from a worker thread); 400 naming the URL when it cannot be read."""
        self.check(url)
        name = PurePosixPath(unquote(urlparse(url).path)).name
        out = io.BytesIO()
        try:
            media_type = self._read_s3(url, out) if url.startswith("s3://") else self._read_http(url, out)
        except TooLarge:
            limit = "DIGITALHUB_SERVE_MAX_BODY_SIZE"
            raise url_error(url, f"the content is larger than {self.max_bytes} bytes, the {limit} limit") from None
        media_type = media_type.partition(";")[0].strip().lower()
        if media_type in GENERIC_TYPES:
            media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return Fetched(out.getvalue(), media_type, name)

    def _read_http(self, url: str, out: io.BytesIO) -> str:
        from http.client import HTTPException
        from urllib.error import HTTPError, URLError
        from urllib.request import HTTPRedirectHandler, Request, build_opener

        class NoRedirects(HTTPRedirectHandler):  # a redirect could lead outside the allowed prefixes
            def redirect_request(self, *_args: Any) -> None:
                return None

        try:
            request = Request(url, headers={"User-Agent": USER_AGENT})
            with build_opener(NoRedirects).open(request, timeout=TIMEOUT) as response:
                copy_bounded(response, out, self.max_bytes)
                return response.headers.get("Content-Type", "")
        except HTTPError as exc:
            moved = " (redirects are not followed: give the final URL)" if 300 <= exc.code < 400 else ""
            raise url_error(url, f"the server answered HTTP {exc.code} {exc.reason}{moved}") from None
        except (URLError, TimeoutError, ConnectionError, HTTPException) as exc:
            raise url_error(url, f"cannot download ({getattr(exc, 'reason', exc)})") from None

    def _read_s3(self, url: str, out: io.BytesIO) -> str:
        from digitalhub_runtime_python.s3 import s3_client, s3_errors, s3_problem, split_uri

        bucket, key = split_uri(url)
        try:
            answer = s3_client().get_object(Bucket=bucket, Key=key)
            with answer["Body"] as body:
                copy_bounded(body, out, self.max_bytes)
            return str(answer.get("ContentType", ""))
        except s3_errors() as exc:
            raise url_error(url, s3_problem(exc, bucket, key)) from None
