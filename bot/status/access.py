"""Who may open the status pages: signed cookies for the session and the OAuth `state`, the operator token
(compared in constant time), and the settings that switch the pages on."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.settings import MIN_OPERATOR_TOKEN_LENGTH, Settings

SESSION_COOKIE = "evolve_status_session"
STATE_COOKIE = "evolve_status_oauth"
STATE_SECONDS = 600  # a sign-in must come back from GitHub within ten minutes
LOGIN_PATH = "/status/login"


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    text = getter() if getter is not None else None
    return text if isinstance(text, str) and text.strip() else None


def operator_token(settings: Settings) -> str | None:
    """The operator token, when one of at least MIN_OPERATOR_TOKEN_LENGTH characters is configured (a shorter one
    stops `evolve serve` from starting; an app built around it anyway accepts no token sign-in)."""
    token = _secret(settings.operator_token)
    return token if token is not None and len(token.strip()) >= MIN_OPERATOR_TOKEN_LENGTH else None


def oauth_ready(settings: Settings) -> bool:
    """Whether GitHub sign-in can work: the App's client id and client secret are known."""
    return bool(settings.client_id and _secret(settings.client_secret))


def pages_enabled(settings: Settings) -> bool:
    """The status pages are served when someone can sign in: by GitHub or with the operator token."""
    return oauth_ready(settings) or operator_token(settings) is not None


def signing_key(settings: Settings) -> str | None:
    """The key that signs the cookies: `EVOLVE_SESSION_SECRET`, else one derived from the client secret or the
    operator token (the same in every process of the deployment, and different from either)."""
    explicit = _secret(settings.session_secret)
    if explicit:
        return explicit
    for source in (_secret(settings.client_secret), operator_token(settings)):
        if source:
            return hmac.new(source.encode(), b"evolve status pages: session cookies", hashlib.sha256).hexdigest()
    return None


def is_operator_token(settings: Settings, offered: str) -> bool:
    """Whether `offered` is the operator token (constant time; False when none is configured)."""
    expected = operator_token(settings)
    if expected is None or not offered:
        return False
    return hmac.compare_digest(offered.encode(), expected.encode())


@dataclass(frozen=True)
class CookieSigner:
    """Signs and checks the session cookie (a session id) and the OAuth state cookie (state and where to go)."""

    key: str

    def _serializer(self, salt: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.key, salt=salt)

    def session(self, session_id: str) -> str:
        """The cookie value for a session id."""
        return str(self._serializer("evolve-status-session").dumps(session_id))

    def session_id(self, cookie: str, max_age: float) -> str | None:
        """The session id of a cookie signed by us within `max_age` seconds, else None."""
        try:
            value = self._serializer("evolve-status-session").loads(cookie, max_age=int(max_age))
        except BadSignature:
            return None
        return value if isinstance(value, str) else None

    def oauth_state(self, state: str, next_path: str) -> str:
        """The cookie remembering a sign-in's `state` and the page to return to."""
        return str(self._serializer("evolve-status-oauth").dumps([state, next_path]))

    def check_state(self, cookie: str, returned: str) -> str | None:
        """The page to return to when GitHub sent back the `state` this browser started with, else None."""
        try:
            value = self._serializer("evolve-status-oauth").loads(cookie, max_age=STATE_SECONDS)
        except BadSignature:
            return None
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
            return None
        state, next_path = value
        if not returned or not hmac.compare_digest(state.encode(), returned.encode()):
            return None
        return safe_next(next_path)


def safe_next(path: str | None) -> str:
    """A page of the status site to go to after signing in; anything else (another site) becomes /status."""
    if not path:
        return "/status"
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not parts.path.startswith("/status") or path.startswith("//"):
        return "/status"
    if "\\" in path or any(ord(ch) < 32 for ch in path):
        return "/status"
    return path


def secure_cookies(settings: Settings, request_scheme: str) -> bool:
    """Cookies carry `Secure` when the public URL (else the request) is https."""
    if settings.public_url:
        return settings.public_url.lower().startswith("https://")
    return request_scheme == "https"
