"""The bot's settings: one `Settings` read from `EVOLVE_*` environment variables.

Credentials written by `/setup` (files in the data directory, mode 0600) fill in whatever
the environment leaves unset; see :func:`load_settings`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from evolve.configuration.operator_limits import OperatorLimits

CREDENTIALS_FILE = "app-credentials.json"
PRIVATE_KEY_FILE = "app-private-key.pem"
MiB = 1024 * 1024


def default_data_dir() -> Path:
    """`$XDG_DATA_HOME/evolve`, or `~/.local/share/evolve`."""
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "evolve"


MIN_OPERATOR_TOKEN_LENGTH = 32  # a sign-in secret no one guesses: `openssl rand -hex 32` gives 64


class Settings(BaseSettings):
    """Everything the service needs to run; secrets are `SecretStr` so they never print."""

    model_config = SettingsConfigDict(env_prefix="EVOLVE_", extra="ignore", validate_default=True)

    app_id: str | None = None
    private_key: SecretStr | None = None  # PEM text
    private_key_path: Path | None = None
    webhook_secret: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    # The secrets zone (bot/tokens/service.py): the web process mints installation tokens for workers that ask with
    # this shared secret; a worker asks the web process at `token_service_url` and holds no App key.
    internal_secret: SecretStr | None = None
    token_service_url: str | None = None
    # Status pages (/status, docs/status-pages.md): an operator token that sees every installation, the key
    # that signs session cookies (default: derived from the client secret or the operator token), and how long
    # a login lasts before GitHub is asked again who the user is and what they can see. The operator token must
    # have MIN_OPERATOR_TOKEN_LENGTH characters (`evolve serve` refuses to start otherwise).
    operator_token: SecretStr | None = None
    session_secret: SecretStr | None = None
    session_hours: float = Field(8.0, gt=0, le=24 * 30)

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str = ""  # empty: sqlite:///<data_dir>/evolve.sqlite
    workdir: Path | None = None  # repository mirrors; default <data_dir>/mirrors

    github_url: str = "https://api.github.com"
    github_web_url: str | None = None  # default derived from github_url
    public_url: str | None = None  # the bot's external base URL, for /setup; default: the request's
    app_slug: str = "evolve-bot"
    bot_login: str = "evolve-bot"

    max_body_bytes: int = 25 * MiB
    role: str = "all"  # web | worker | all
    delivery_attempts: int = 5  # tries before a delivery is marked failed
    run_timeout_seconds: int = 3600
    max_concurrent_jobs: int = 8  # jobs one worker process runs at once
    max_concurrent_runs: int = 2  # engine runs one worker process runs at once
    # Engine runs one installation may have running at once across all workers; installations take turns.
    max_runs_per_installation: int = Field(2, ge=1)
    delivery_workers: int = 8  # in-process consumers of freshly accepted deliveries
    sweep_seconds: float = 5.0  # how often a worker looks for work left behind (restarts, other processes)
    # A worker holds a claimed delivery or run for `lease_seconds` and renews the lease every
    # `heartbeat_seconds`: work held by a dead worker is taken over within lease + sweep seconds.
    lease_seconds: float = 15.0
    log_format: str = "text"  # text | json (one object per line with delivery, run, installation, repository)
    heartbeat_seconds: float = 5.0
    # Run repository code without bubblewrap when the machine cannot sandbox it (warned on every run); see
    # docs/sandbox.md. False: such runs are refused.
    allow_unsandboxed: bool = False
    # `evolve serve --role web`: record deliveries on a writer thread of each web process (`thread`), or through
    # one writer process behind all of them (`process`, bot/db/writer_process.py).
    intake_writer: Literal["thread", "process"] = "thread"
    sqlite_synchronous: str = "FULL"  # FULL: an acknowledged delivery survives power loss; NORMAL is faster
    # Test environments (built per repository with uv in the sandbox; kept under <data_dir>/envs).
    env_max_bytes: int = 5 * 1024**3  # size cap of the environment store; least recently used evicted first
    install_network: bool = True  # False: environments install offline, from the uv cache only
    # Research runs base's suite on the newest declared and oldest supported Python first (issue 18); off by default
    # in the App until an operator has the build time for two more environments per repository.
    base_suites: bool = False
    # Research samples mutants over each repository's most important functions and lists the test gaps on the
    # dashboard and the status pages (issue 21): one suite run with per-test coverage plus
    # `research.test_gaps.budget_seconds` of mutants per run, so off until an operator turns it on.
    test_gaps: bool = False
    index_url: str | None = None  # a private package mirror (passed to uv as UV_INDEX_URL)
    extra_index_url: str | None = None
    # Further `host:port` the installs' egress proxy lets through besides the indexes' own hosts (comma-separated;
    # a mirror whose pages link to files on another host). Never an IP address.
    egress_hosts: str = ""

    # Limits of the public port against slow, oversized and unsigned requests (bot/intake/http_limits.py, bot/intake/webhooks.py).
    header_timeout_seconds: float = Field(10.0, gt=0)  # request line and headers must arrive within this
    max_header_bytes: int = Field(32 * 1024, ge=4096)  # request line plus headers
    max_headers: int = Field(100, ge=16)
    max_connections: int = Field(4000, ge=16)  # beyond it, the oldest connection still sending its head is closed
    keep_alive_seconds: float = Field(5.0, gt=0)  # idle time allowed between requests on one connection
    body_timeout_seconds: float = Field(20.0, gt=0)  # the whole body must arrive within this
    max_body_bytes_in_flight: int = Field(32 * MiB, ge=MiB)  # body bytes all requests may hold at once
    access_log: bool = False  # uvicorn's access log (one line per request); delivery outcomes are always logged

    # The operator's LLM key, base URL, models and upper limits (EVOLVE_LLM_*, ANTHROPIC_API_KEY, ...);
    # a repository's config may only lower them. See evolve/configuration/operator_limits.py.
    operator: OperatorLimits = Field(default_factory=OperatorLimits.from_environment)

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'evolve.sqlite'}"
        if self.workdir is None:
            self.workdir = self.data_dir / "mirrors"
        if self.max_body_bytes_in_flight < self.max_body_bytes:
            raise ValueError("max_body_bytes_in_flight must be at least max_body_bytes")
        return self

    @property
    def web_url(self) -> str:
        """The GitHub web origin matching `github_url` (github.com or a GHES host)."""
        if self.github_web_url:
            return self.github_web_url.rstrip("/")
        api = self.github_url.rstrip("/")
        if api == "https://api.github.com":
            return "https://github.com"
        if api.endswith("/api/v3"):  # GitHub Enterprise Server
            return api[: -len("/api/v3")]
        return api

    @property
    def bot_identity(self) -> str:
        """The App's bot user on GitHub, `<login>[bot]`: the author of its comments, issues and commits.

        `bot_login` when it is set, else the App's slug (so an App created by `/setup` under another
        name recognises its own comments without `EVOLVE_BOT_LOGIN`).
        """
        login = self.bot_login if "bot_login" in self.model_fields_set else self.app_slug
        return f"{login.strip().lstrip('@').removesuffix('[bot]')}[bot]"

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is a SQLite file (the embedded default)."""
        return self.database_url.startswith("sqlite")

    def private_key_pem(self) -> str | None:
        """The app's private key text, from `private_key` or the file at `private_key_path`."""
        if self.private_key is not None and self.private_key.get_secret_value().strip():
            # Env files often carry the PEM with literal "\n".
            return self.private_key.get_secret_value().replace("\\n", "\n")
        if self.private_key_path is not None and self.private_key_path.exists():
            return self.private_key_path.read_text(encoding="utf-8")
        return None

    def internal_secret_value(self) -> str | None:
        """The internal shared secret of the token service, or None when unset or blank."""
        value = self.internal_secret.get_secret_value().strip() if self.internal_secret else ""
        return value or None

    def delivery_seal_secret(self) -> str | None:
        """The secret delivery seals are derived from (`bot.db.delivery_seal`): the internal secret, which
        the web process and every worker hold; the webhook secret when none is set (a `--role all` process)."""
        return self.internal_secret_value() or self.webhook_secret_value() or None

    def webhook_secret_value(self) -> str | None:
        """The webhook secret as text, or None when unset."""
        return self.webhook_secret.get_secret_value() if self.webhook_secret else None

    @property
    def has_app_credentials(self) -> bool:
        """Whether app id, private key and webhook secret are all known."""
        return bool(self.app_id and self.private_key_pem() and self.webhook_secret_value())


def credentials_path(data_dir: Path) -> Path:
    """Where `/setup` stores the app credentials (JSON, mode 0600)."""
    return data_dir / CREDENTIALS_FILE


class CredentialsExist(Exception):
    """`/setup` found credentials already stored: they are never overwritten by the web flow."""


def write_private_file(path: Path, text: str, *, replace: bool = True) -> None:
    """Write `text` to `path` readable and writable only by the owner (0600), atomically.

    With `replace=False` an existing file is left as it is and :class:`CredentialsExist` is raised.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if replace:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # atomic, and fails when `path` exists
    except FileExistsError:
        raise CredentialsExist(path.name) from None
    finally:
        tmp.unlink(missing_ok=True)


def store_credentials(data_dir: Path, conversion: dict[str, Any]) -> Path:
    """Persist the manifest conversion result (app id, PEM, secrets) under `data_dir`, mode 0600.

    Never replaces stored credentials: raises :class:`CredentialsExist` when either file exists.
    """
    pem = conversion.get("pem") or ""
    key_path = data_dir / PRIVATE_KEY_FILE
    if credentials_path(data_dir).exists():
        raise CredentialsExist(CREDENTIALS_FILE)
    write_private_file(key_path, pem, replace=False)
    stored = {
        "app_id": str(conversion.get("id", "")),
        "app_slug": conversion.get("slug"),
        "webhook_secret": conversion.get("webhook_secret"),
        "client_id": conversion.get("client_id"),
        "client_secret": conversion.get("client_secret"),
        "private_key_path": str(key_path),
        "html_url": conversion.get("html_url"),
    }
    path = credentials_path(data_dir)
    write_private_file(path, json.dumps(stored, indent=2), replace=False)
    return path


def load_settings(**overrides: Any) -> Settings:
    """Build `Settings` from the environment, then fill unset credentials from `/setup`'s files."""
    return apply_stored_credentials(Settings(**overrides))


def apply_stored_credentials(settings: Settings, *, replace: bool = False) -> Settings:
    """A copy of `settings` with credentials from the files `/setup` stored.

    By default they only fill what is unset; `replace=True` (right after `/setup`) lets them
    replace everything except values given by `EVOLVE_*` environment variables, which always win.
    """
    path = credentials_path(settings.data_dir)
    if not path.exists():
        return settings
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return settings
    if not isinstance(stored, dict):
        return settings

    def wanted(field: str, current_is_set: bool) -> bool:
        if f"EVOLVE_{field.upper()}" in os.environ:
            return False
        return replace or not current_is_set

    key_from_env = "EVOLVE_PRIVATE_KEY" in os.environ or "EVOLVE_PRIVATE_KEY_PATH" in os.environ
    updates: dict[str, Any] = {}
    if stored.get("app_id") and wanted("app_id", bool(settings.app_id)):
        updates["app_id"] = str(stored["app_id"])
    if stored.get("private_key_path") and not key_from_env and (replace or settings.private_key_pem() is None):
        updates["private_key_path"] = Path(stored["private_key_path"])
        updates["private_key"] = None
    for field in ("webhook_secret", "client_secret"):
        if stored.get(field) and wanted(field, getattr(settings, field) is not None):
            updates[field] = SecretStr(stored[field])
    if stored.get("client_id") and wanted("client_id", bool(settings.client_id)):
        updates["client_id"] = stored["client_id"]
    if stored.get("app_slug") and wanted("app_slug", "app_slug" in settings.model_fields_set):
        updates["app_slug"] = stored["app_slug"]
    return settings.model_copy(update=updates) if updates else settings


def workdir(settings: Settings) -> Path:
    """Where repository mirrors and the engine's work trees live (default: `<data_dir>/mirrors`)."""
    return Path(settings.workdir) if settings.workdir is not None else Path(settings.data_dir) / "mirrors"
