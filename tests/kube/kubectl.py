"""The real ``kubectl`` binary against the emulator, as a user types it: a kubeconfig, a home of its own, no flags
added."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path


class KubectlFailed(AssertionError):
    """kubectl exited non-zero; the message is its stderr."""


class WaitTimedOut(KubectlFailed):
    """``kubectl wait`` gave up: the condition was not met in time."""


class Kubectl:
    """``kubectl(*args)`` runs kubectl with this kubeconfig (whose context names the namespace) and returns stdout."""

    def __init__(self, kubeconfig: Path, home: Path):
        self.env = {"PATH": os.environ["PATH"], "KUBECONFIG": str(kubeconfig), "HOME": str(home)}
        home.mkdir(parents=True, exist_ok=True)  # kubectl caches discovery under ~/.kube

    def __call__(self, *args: str | Path, stdin: str | None = None, timeout: float = 60) -> str:
        command = ["kubectl", *map(str, args)]
        done = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=timeout, env=self.env)
        if done.returncode != 0:
            failure = WaitTimedOut if "timed out waiting" in done.stderr else KubectlFailed
            raise failure(f"{' '.join(command)} exited with {done.returncode}:\n{done.stderr}")
        return done.stdout

    def table(self, *args: str) -> list[dict[str, str]]:
        """``kubectl get ...`` as printed: one dict per row, by column title (kubectl aligns cells under titles)."""
        header, *rows = self(*args).splitlines()
        starts = [match.start() for match in re.finditer(r"\S+", header)]
        bounds = list(zip(starts, [*starts[1:], None], strict=True))
        return [{header[a:b].strip(): row[a:b].strip() for a, b in bounds} for row in rows]
