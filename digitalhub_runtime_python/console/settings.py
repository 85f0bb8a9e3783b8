"""What the console lets a visitor do: read only (the default), or act on runs, with whose identity."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

ENV_ACTIONS = "DIGITALHUB_CONSOLE_ACTIONS"
ENV_IDENTITY = "DIGITALHUB_CONSOLE_IDENTITY"
Identity = Literal["server", "forwarded"]
IDENTITIES: tuple[Identity, ...] = ("server", "forwarded")
TRUE, FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


@dataclass(frozen=True)
class ConsoleSettings:
    """``actions``: stop, resume and invoke buttons (off: the console only reads). ``identity``: who acts.

    - ``server``: the console's own identity: the store file or the kubeconfig of whoever runs ``dhrun ui``.
    - ``forwarded`` (Kubernetes only): each action uses the caller's bearer token (the ``Authorization`` header an
      authenticating proxy in front of the console sets); a request without one is refused.
    """

    actions: bool = False
    identity: Identity = "server"
    page_size: int = 50

    @classmethod
    def from_env(cls, *, actions: bool | None = None, identity: str | None = None) -> ConsoleSettings:
        """From ``DIGITALHUB_CONSOLE_ACTIONS`` and ``DIGITALHUB_CONSOLE_IDENTITY``, overridden by the arguments."""
        if actions is None:
            text = os.environ.get(ENV_ACTIONS, "").strip().lower()
            if text not in TRUE + FALSE:
                raise ValueError(f"{ENV_ACTIONS}={text!r} is not a boolean: use true or false")
            actions = text in TRUE
        chosen = identity or os.environ.get(ENV_IDENTITY) or "server"
        if chosen not in IDENTITIES:
            raise ValueError(f"{ENV_IDENTITY}={chosen!r} is not an identity: use 'server' or 'forwarded'")
        return cls(actions=actions, identity=chosen)
