"""``python -m digitalhub_operator``: run the operator with the namespaces from DIGITALHUB_OPERATOR_NAMESPACES."""

from __future__ import annotations

import argparse
import logging
import sys

import kopf

from digitalhub_operator.settings import OperatorSettings, SettingsError


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        prog="python -m digitalhub_operator",
        description="Run the digitalhub operator: Run custom resources become Jobs, Deployments and Services.",
        epilog="Configured by DIGITALHUB_OPERATOR_* environment variables (docs/operator.md), "
        "e.g. DIGITALHUB_OPERATOR_NAMESPACES=team-a,team-b; none are required.",
    ).parse_args(argv)
    try:
        settings = OperatorSettings.from_env()
    except SettingsError as exc:
        print(f"digitalhub-operator: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from digitalhub_operator import handlers  # noqa: F401  (registers the handlers)

    # The startup handler applies these same settings (peering included) to kopf: read once, applied once.
    kopf.run(
        clusterwide=not settings.namespaces, namespaces=list(settings.namespaces), memo=kopf.Memo(settings=settings)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
