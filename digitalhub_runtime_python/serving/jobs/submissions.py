"""What a client sends to submit requests (``POST /jobs``, ``/jobs/batch``, ``/requests``): args or a url to read
them from, a JSON or pickled result, a caller-chosen id."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

RequestId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", description="Caller-chosen job id")]
MAX_BATCH = 1000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RequestFields(_Strict):
    """One request: its ``args``, or the ``url`` to read them from; the result as JSON or pickled."""

    args: Any = Field(None, description="The request: the handler's event body, or the command's inputs")
    url: str | None = Field(
        None,
        description="Read the request from here instead of args (http(s) or s3, under the server's allowed prefixes):"
        " JSON is the event body or the command's inputs; other content the event body or the command's one file or "
        "image input",
    )
    return_pickled: bool = Field(
        False, description="Pickle the result into the project's artifact store and answer its result_url"
    )
    request_id: RequestId | None = None

    @model_validator(mode="after")
    def _args_or_url(self) -> RequestFields:
        if self.url is not None and self.args is not None:
            raise ValueError("give args or url, not both")
        return self


class JobSubmission(RequestFields):
    command: str | None = Field(None, description="A command's name; the handler at / when omitted")


class BatchRequest(_Strict):
    command: str | None = None
    requests: list[RequestFields] = Field(min_length=1, max_length=MAX_BATCH)
