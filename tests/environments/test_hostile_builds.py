"""Hostile builds and hostile files against the real uv, bubblewrap and egress proxy: a `setup.py`, an in-tree
PEP 517 backend and an install command that try the host's loopback; a build that poisons its uv cache before a
second repository builds; an install command that rewrites `pyvenv.cfg`; a committed `.venv` on the CLI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from evolve.cli import main
from evolve.configuration.model import EvolveConfig
from evolve.environments.declarations import discover
from evolve.environments.install_plan import make_plan
from evolve.environments.interpreters import Interpreter
from evolve.environments.model import Environment, EnvironmentSettings
from evolve.environments.prepare import prepare_environment
from evolve.environments.report import render_environment_section
from evolve.sandbox import interpreter_mounts
from evolve.suites.runs import run_test_suite
from tests.repo_factory import make_repo

TEST_FILE = "def test_a():\n    assert True\n"
# Tries every way out to a listener on the host's loopback; exits 3 (failing the build) if one worked.
ATTACK = """
import socket, sys, urllib.request
PORT = {port}
reached = []
def attempt(label, action):
    try:
        action()
        reached.append(label)
    except Exception:
        pass
attempt("direct", lambda: socket.create_connection(("127.0.0.1", PORT), timeout=3).close())
attempt("dns", lambda: socket.getaddrinfo("pypi.org", 443))
attempt("proxy by ip", lambda: urllib.request.urlopen("http://127.0.0.1:%d/" % PORT, timeout=10).read())
attempt("proxy by name", lambda: urllib.request.urlopen("http://localhost:%d/" % PORT, timeout=10).read())
attempt("tunnel by name", lambda: urllib.request.urlopen("https://localhost:%d/" % PORT, timeout=10).read())
if reached:
    sys.exit("ATTACK-REACHED " + ", ".join(reached))
print("ATTACK-BLOCKED", file=sys.stderr)
"""


class Listener:
    """A TCP listener on the host's 127.0.0.1 that counts what reaches it (PostgreSQL, Redis, the web process)."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.accepted += 1
            connection.close()


@pytest.fixture
def listener():
    opened = Listener()
    yield opened
    opened.server.close()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("evolve-data")


def _settings(data_dir: Path, tenant: str, port: int | None = None) -> EnvironmentSettings:
    # The operator even lists localhost:<port> as an index host: the proxy's address check still refuses it.
    hosts = (f"localhost:{port}",) if port else ()
    return EnvironmentSettings(data_dir=data_dir, tenant=tenant, repository=tenant, egress_hosts=hosts)


def _setup_py(port: int) -> dict[str, str]:
    attack = ATTACK.format(port=port)
    return {
        "setup.py": f"{attack}\nfrom setuptools import setup\nsetup(name='hostile', version='0.1', py_modules=[])\n",
        "tests/test_a.py": TEST_FILE,
    }


def _backend(port: int) -> dict[str, str]:
    return {
        "pyproject.toml": (
            '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "evil_backend"\nbackend-path = ["."]\n'
            '[project]\nname = "hostile"\nversion = "0.1"\n[tool.setuptools]\npy-modules = []\n'
        ),
        "evil_backend.py": ATTACK.format(port=port) + "\nfrom setuptools.build_meta import *  # noqa\n",
        "tests/test_a.py": TEST_FILE,
    }


def _install_command(port: int) -> dict[str, str]:
    return {
        "attack.py": ATTACK.format(port=port),
        ".github/evolve.yml": "gates:\n  tests:\n    install: ['python attack.py']\n",
        "tests/test_a.py": TEST_FILE,
    }


@pytest.mark.parametrize("files", [_setup_py, _backend, _install_command], ids=["setup.py", "backend", "install"])
def test_a_hostile_build_reaches_nothing_on_the_host_and_the_legitimate_install_still_works(
    tmp_path, data_dir, listener, files
):
    repo = make_repo(tmp_path / "hostile", files(listener.port))
    config = EvolveConfig()
    if (repo / ".github" / "evolve.yml").exists():
        config = EvolveConfig.model_validate({"gates": {"tests": {"install": ["python attack.py"]}}})
    built = prepare_environment(repo, config, _settings(data_dir, "tenant-hostile", listener.port))
    # Built: setuptools (for the backend) and pytest came from the index through the proxy; the attack, run by
    # the build, found every other way closed (it would have failed the build with ATTACK-REACHED).
    assert isinstance(built, Environment), built
    assert listener.accepted == 0
    assert run_test_suite(repo, config, with_coverage=False, environment=built).passed == 1


def test_a_poisoned_cache_is_never_read_by_another_repository(tmp_path, data_dir):
    first = _settings(data_dir, "tenant-poisoner")
    second = _settings(data_dir, "tenant-victim")
    assert first.uv_cache_dir != second.uv_cache_dir
    poison = 'for f in $(find "$UV_CACHE_DIR" -name "*.py" | head -50); do echo "raise SystemExit(99)" >> "$f"; done'
    poisoner = make_repo(tmp_path / "poisoner", {"tests/test_a.py": TEST_FILE})
    config = EvolveConfig.model_validate({"gates": {"tests": {"install": [poison, 'touch "$UV_CACHE_DIR/POISON"']}}})
    assert isinstance(prepare_environment(poisoner, config, first), Environment)
    assert (first.uv_cache_dir / "POISON").exists()
    # The victim's build looks for the poison in its own cache and in the poisoner's (neither is visible).
    look = f'test ! -e "$UV_CACHE_DIR/POISON" && test ! -e {first.uv_cache_dir}/POISON'
    victim = make_repo(tmp_path / "victim", {"tests/test_a.py": TEST_FILE})
    victim_config = EvolveConfig.model_validate({"gates": {"tests": {"install": [look]}}})
    built = prepare_environment(victim, victim_config, second)
    assert isinstance(built, Environment), built
    assert not (second.uv_cache_dir / "POISON").exists()
    assert run_test_suite(victim, victim_config, with_coverage=False, environment=built).passed == 1


def test_the_same_declarations_in_two_repositories_are_two_environments():
    files = {"requirements-test.txt": "pytest\n"}
    python = Interpreter("/usr/bin/python3", (3, 12, 1), "/usr")
    keys = {make_plan(discover(files), files, python, runner="pytest", repository=name).key for name in ("a/x", "b/x")}
    assert len(keys) == 2


def test_a_rewritten_pyvenv_cfg_mounts_nothing_of_the_host(tmp_path, data_dir):
    host_dir = tmp_path / "bot-data"
    (host_dir / "bin").mkdir(parents=True)
    (host_dir / "app-private-key.pem").write_text("KEY")
    rewrite = f'printf "home = {host_dir}/bin\\n" > "$VIRTUAL_ENV/pyvenv.cfg"'
    probe = f"import os\n\ndef test_a():\n    assert not os.path.exists({str(host_dir)!r})\n"
    repo = make_repo(tmp_path / "rewrites", {"tests/test_a.py": probe})
    config = EvolveConfig.model_validate({"gates": {"tests": {"install": [rewrite]}}})
    built = prepare_environment(repo, config, _settings(data_dir, "tenant-rewrites"))
    assert isinstance(built, Environment), built
    assert f"home = {host_dir}/bin" in (Path(built.python).parent.parent / "pyvenv.cfg").read_text()
    bound = {mount.target for mount in interpreter_mounts(built.python)} | set(built.mounts)
    assert not any(str(host_dir).startswith(path) or path.startswith(str(host_dir)) for path in bound)
    run = run_test_suite(repo, config, with_coverage=False, environment=built)
    assert "KEY" not in run.output_tail and run.failed == 0 and run.passed == 1, run.output_tail


def test_published_text_names_the_environment_by_key_and_version_not_host_paths(tmp_path, data_dir):
    repo = make_repo(tmp_path / "plain", {"tests/test_a.py": TEST_FILE})
    built = prepare_environment(repo, EvolveConfig(), _settings(data_dir, "tenant-plain"))
    assert isinstance(built, Environment), built
    section = render_environment_section(built.to_dict())
    interpreter = os.path.realpath(sys.executable)
    assert built.key and f"envs/{built.key}" in section and "Python 3\\." in section
    for host_path in (str(data_dir), str(Path.home()), os.path.dirname(interpreter), str(tmp_path)):
        assert host_path not in section and host_path not in str(built.to_dict()), host_path


def _marker_python(marker: Path) -> str:
    return f'#!/bin/sh\necho ran > {marker}\nexec /usr/bin/python3 "$@"\n'


def test_a_committed_venv_never_runs_on_the_host(tmp_path, data_dir, capsys):
    marker = tmp_path / "MARKER"
    repo = make_repo(
        tmp_path / "committed-venv", {".venv/bin/python": _marker_python(marker), "tests/test_a.py": TEST_FILE}
    )
    os.chmod(repo / ".venv" / "bin" / "python", 0o755)
    subprocess.run(["git", "-C", str(repo), "add", "--chmod=+x", ".venv/bin/python"], check=True)
    code = main(["run", str(repo), "--dry-run", "--data-dir", str(data_dir), "--json", "-q"])
    assert code in (0, 1)
    assert not marker.exists()
    assert ".venv/ is committed to the repository" in capsys.readouterr().err


def test_an_untracked_venv_is_probed_only_in_the_sandbox(tmp_path, data_dir):
    from evolve.cli.parser import build_parser
    from evolve.environments.commands import settings_from_args

    marker = tmp_path / "MARKER"
    repo = make_repo(tmp_path / "own-venv", {"tests/test_a.py": TEST_FILE})
    (repo / ".venv" / "bin").mkdir(parents=True)
    (repo / ".venv" / "bin" / "python").write_text(_marker_python(marker))
    os.chmod(repo / ".venv" / "bin" / "python", 0o755)
    settings = settings_from_args(build_parser().parse_args(["run", str(repo), "--data-dir", str(data_dir)]), repo)
    assert settings.python == str(repo / ".venv" / "bin" / "python")
    chosen = prepare_environment(repo, EvolveConfig(), settings)
    assert isinstance(chosen, Environment) and chosen.kind == "local"  # the sandbox's /usr/bin/python3 answered
    assert not marker.exists()  # it ran, but in the sandbox, where the host's path does not exist
    assert sys.executable  # (the host interpreter was never asked about it)


def test_tests_granted_network_get_the_proxy_to_the_index_never_the_host(tmp_path, data_dir, listener):
    probe = (
        "import os, socket, urllib.request\n\n"
        "def test_network():\n"
        "    assert os.environ['HTTPS_PROXY'] == 'http://127.0.0.1:3128'\n"
        "    try:\n"
        f"        socket.create_connection(('127.0.0.1', {listener.port}), timeout=3)\n"
        "        raise AssertionError('reached the host directly')\n"
        "    except OSError:\n"
        "        pass\n"
        "    try:\n"
        f"        urllib.request.urlopen('http://localhost:{listener.port}/', timeout=10)\n"
        "        raise AssertionError('reached the host through the proxy')\n"
        "    except OSError:\n"
        "        pass\n"
    )
    repo = make_repo(tmp_path / "networked", {"tests/test_net.py": probe})
    config = EvolveConfig.model_validate({"gates": {"tests": {"allow_network": True}}})
    settings = _settings(data_dir, "tenant-networked", listener.port)
    offline = prepare_environment(repo, config, settings)
    assert isinstance(offline, Environment) and offline.egress is None  # the operator has not granted it
    assert run_test_suite(repo, config, with_coverage=False, environment=offline).failed == 1
    granted = prepare_environment(repo, config, replace(settings, tests_network=True))
    assert isinstance(granted, Environment) and granted.egress is not None
    run = run_test_suite(repo, config, with_coverage=False, environment=granted)
    assert run.passed == 1, run.output_tail
    assert listener.accepted == 0
