"""Console settings: read only unless asked, from the environment or the command line, bad values named."""

from __future__ import annotations

import pytest

from digitalhub_runtime_python.console.settings import ConsoleSettings


def test_read_only_with_the_servers_identity_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIGITALHUB_CONSOLE_ACTIONS", raising=False)
    monkeypatch.delenv("DIGITALHUB_CONSOLE_IDENTITY", raising=False)
    assert ConsoleSettings.from_env() == ConsoleSettings(actions=False, identity="server")


def test_environment_then_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITALHUB_CONSOLE_ACTIONS", "true")
    monkeypatch.setenv("DIGITALHUB_CONSOLE_IDENTITY", "forwarded")
    assert ConsoleSettings.from_env() == ConsoleSettings(actions=True, identity="forwarded")
    assert ConsoleSettings.from_env(actions=False).actions is False


@pytest.mark.parametrize(
    ("name", "value"), [("DIGITALHUB_CONSOLE_ACTIONS", "maybe"), ("DIGITALHUB_CONSOLE_IDENTITY", "admin")]
)
def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        ConsoleSettings.from_env()


def test_the_forwarded_identity_needs_kubernetes(tmp_path) -> None:
    from digitalhub_runtime_python.backends.local import LocalBackend
    from digitalhub_runtime_python.console.app import create_app
    from digitalhub_runtime_python.settings import Settings

    backend = LocalBackend(Settings(home=tmp_path))
    with pytest.raises(ValueError, match="Kubernetes backend"):
        create_app(backend, ConsoleSettings(actions=True, identity="forwarded"))
    backend.close()
