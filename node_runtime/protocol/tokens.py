"""JWTs of the mesh: user sessions with sliding expiry, secret claims, role and node tokens.

This module owns the claim rules (DESIGN sections 2, 5, 7, 9): which claims a token
carries, how a session slides, how secret claims are sealed, and why a token is refused
(``TokenError.reason``). It must not do I/O or read the clock: ``now`` (unix seconds) is
always passed in. It fixes QEWD's JWT defects (reference/qewd.md section 3, section 9
items 5 and 6): the algorithm is pinned by the settings and never taken from the token
header; secret claims use AES-256-GCM with a random nonce, bound to the token's ``sid``,
instead of AES-CBC with a static MD5-derived IV; ``exp`` is always ``iat + timeout``;
the secret never appears in a message or a repr.

A verified token is not an authorisation: callers check ``session.get("role")`` (for
``/monitor`` and node links) or ``application`` themselves. Session tokens never carry a
role: ``issue_session`` refuses one and ``refresh`` will not re-sign one.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeGuard, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from jwt.api_jws import PyJWS
from jwt.exceptions import (
    InvalidAlgorithmError,
    InvalidSignatureError,
    PyJWTError,
)

from node_runtime.errors import NodeError, RemoteError
from node_runtime.protocol.codes import ErrorCode
from node_runtime.protocol.token_keys import (
    HMAC_HASHES,
    PreparedHMAC,
    SigningKey,
    TokenSettingsError,
    VerifyingKey,
    load_key_pair,
)

SUPPORTED_ALGORITHMS = (*HMAC_HASHES, "RS256", "ES256")
ROLES = frozenset({"admin", "monitor", "node"})
# Claims the service itself sets or that carry authority; none of them can be secret.
RESERVED_CLAIMS = frozenset(
    {"iss", "iat", "exp", "application", "timeout", "sid", "qewd", "role", "sub"}
)
# Claims that refresh recomputes, whatever a handler wrote into the session.
_SET_BY_REFRESH = frozenset({"iss", "iat", "exp", "timeout", "sid", "qewd"})
# Longer strings are refused before parsing: PyJWT checks base64 one character at a time.
MAX_TOKEN_CHARS = 65536
VERIFIED_CACHE_SIZE = 8192
# claims (secret ones opened), names of the secret ones, iat, nbf, exp
_Verified = tuple[dict[str, Any], frozenset[str], float, float, float]
_SECRET_CLAIMS_INFO = b"qewd-mesh secret claims v1"
_NONCE_BYTES = 12
_TAG_BYTES = 16

TokenFailure = Literal[
    "malformed", "algorithm", "signature", "issuer", "claims", "not_yet_valid", "expired", "secret"
]


class TokenError(RemoteError):
    """A presented token is refused; ``reason`` says why in one stable word."""

    def __init__(self, reason: TokenFailure, text: str) -> None:
        code = ErrorCode.TOKEN_EXPIRED if reason == "expired" else ErrorCode.BAD_TOKEN
        super().__init__(text, code)
        self.reason: TokenFailure = reason


class TokenUsageError(NodeError):
    """This program asked for something its settings or the session do not allow."""

    def __init__(self, text: str) -> None:
        super().__init__(text, ErrorCode.HANDLER)


@dataclass(frozen=True)
class TokenSettings:
    """How tokens are signed and checked; key material is kept out of the repr."""

    algorithm: str = "HS256"
    secret: str | None = field(default=None, repr=False)
    private_key_pem: bytes | None = field(default=None, repr=False)
    public_key_pem: bytes | None = None
    issuer: str = "qewd-mesh"
    session_timeout: int = 1200
    leeway: int = 5


class Session(dict[str, object]):
    """The claims of a verified token as a handler sees them (``ctx.session``).

    Names in ``secret_keys`` travel sealed in the ``qewd`` claim, unreadable by clients.
    """

    __slots__ = ("secret_keys",)

    def __init__(
        self, claims: Mapping[str, object] | None = None, *, secret_keys: Iterable[str] = ()
    ) -> None:
        super().__init__(claims or {})
        self.secret_keys: set[str] = set(secret_keys)

    def make_secret(self, name: str) -> None:
        """Seal claim ``name`` in the next token instead of showing it to the client."""
        if name in RESERVED_CLAIMS:
            raise TokenUsageError(f"claim {name!r} is reserved and cannot be secret")
        self.secret_keys.add(name)

    def make_public(self, name: str) -> None:
        """Show claim ``name`` in the next token's payload again."""
        self.secret_keys.discard(name)

    def is_secret(self, name: str) -> bool:
        """Whether claim ``name`` is sealed rather than public."""
        return name in self.secret_keys

    def to_wire(self) -> dict[str, object]:
        """A plain dict (JSON- and pickle-safe) holding every claim and the secret names."""
        return {"claims": dict(self), "secret_keys": sorted(self.secret_keys)}

    @classmethod
    def from_wire(cls, wire: Mapping[str, object]) -> Session:
        """Rebuild a session from ``to_wire`` output, refusing any other shape."""
        claims = wire.get("claims")
        names = wire.get("secret_keys")
        if not isinstance(claims, dict) or not all(isinstance(k, str) for k in claims):
            raise TokenError("malformed", "session wire form needs a 'claims' object")
        if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
            raise TokenError("malformed", "session wire form needs a 'secret_keys' list")
        if not RESERVED_CLAIMS.isdisjoint(names):
            raise TokenError("malformed", "session wire form marks a reserved claim secret")
        return cls(claims, secret_keys=names)

    def __repr__(self) -> str:
        shown = {k: "<secret>" if k in self.secret_keys else v for k, v in self.items()}
        return f"Session({shown!r}, secret_keys={sorted(self.secret_keys)!r})"


class TokenService:
    """Issues, verifies and slides the mesh's JWTs with one pinned algorithm."""

    def __init__(self, settings: TokenSettings) -> None:
        algorithm = settings.algorithm
        if algorithm not in SUPPORTED_ALGORITHMS:
            raise TokenSettingsError(
                "algorithm",
                f"unsupported {algorithm!r}; use one of {', '.join(SUPPORTED_ALGORITHMS)}",
            )
        if not isinstance(settings.issuer, str) or not settings.issuer:
            raise TokenSettingsError("issuer", "must be a non-empty string")
        timeout = settings.session_timeout
        if type(timeout) is not int or timeout <= 0:
            raise TokenSettingsError("session_timeout", "must be a positive whole number")
        if type(settings.leeway) not in (int, float) or not 0 <= settings.leeway < math.inf:
            raise TokenSettingsError("leeway", "must be a number of seconds >= 0")
        if settings.secret is not None and not settings.secret:
            raise TokenSettingsError("secret", "must not be empty")
        secret = settings.secret.encode("utf-8") if settings.secret else None

        self._algorithm = algorithm
        self._algorithms = [algorithm]
        self._issuer = settings.issuer
        self._verified: dict[str, _Verified] = {}
        self._timeout = timeout
        self._leeway = settings.leeway
        self._jws = PyJWS(algorithms=self._algorithms)
        self._encoder = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
        # A note for the operator (e.g. "the HMAC key is 9 bytes long ..."); never the key.
        self.secret_notice: str | None = None
        self._signing_key: SigningKey | None
        self._verifying_key: VerifyingKey
        if algorithm in HMAC_HASHES:
            if secret is None:
                raise TokenSettingsError("secret", f"{algorithm} needs a shared secret")
            hmac_algorithm = PreparedHMAC(algorithm, secret)
            self._jws.unregister_algorithm(algorithm)
            self._jws.register_algorithm(algorithm, hmac_algorithm)
            self.secret_notice = hmac_algorithm.length_notice
            self._signing_key = self._verifying_key = hmac_algorithm.key
        else:
            self._signing_key, self._verifying_key = load_key_pair(settings)
        # Derived once: HKDF per call would cost more than the encryption itself.
        self._aead: AESGCM | None = None
        if secret is not None:
            hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SECRET_CLAIMS_INFO)
            self._aead = AESGCM(hkdf.derive(secret))

    def __repr__(self) -> str:
        signs = "sign+verify" if self._signing_key is not None else "verify-only"
        return f"TokenService({self._algorithm}, issuer={self._issuer!r}, {signs})"

    @property
    def can_sign(self) -> bool:
        """Whether this service holds a signing key (HMAC secret or private key)."""
        return self._signing_key is not None

    def issue_session(
        self,
        application: str,
        now: float,
        claims: Mapping[str, object] | None = None,
        *,
        secret_claims: Mapping[str, object] | None = None,
    ) -> str:
        """A new user session token for ``application`` with a fresh random ``sid``."""
        if not isinstance(application, str) or not application:
            raise TokenUsageError("a session needs a non-empty application name")
        public = dict(claims or {})
        hidden = dict(secret_claims or {})
        for name in (*public, *hidden):
            if name in RESERVED_CLAIMS:
                raise TokenUsageError(f"claim {name!r} is reserved and set by the token service")
        if not public.keys().isdisjoint(hidden):
            raise TokenUsageError("a claim cannot be both public and secret")
        session = Session(public, secret_keys=hidden)
        session.update(hidden)
        session["application"] = application
        return self.refresh(session, now)

    def verify(self, token: object, now: float) -> Session:
        """Check ``token`` (signature, issuer, times, secret claims) and return its claims.

        The outcome of the signature and secret-claim checks depends only on the token's
        text and this service's fixed keys, so it is remembered for recently seen tokens
        (a client sends the same token until its next reply); the time checks run on
        every call, against ``now``.
        """
        cached = self._verified.get(token) if isinstance(token, str) else None
        if cached is None:
            cached = self._verify_signed(token)
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                del self._verified[next(iter(self._verified))]
            self._verified[cast(str, token)] = cached
        claims, secret_keys, issued_at, not_before, expires_at = cached
        if max(issued_at, not_before) > now + self._leeway:
            raise TokenError("not_yet_valid", "the token is not valid yet")
        if now - self._leeway >= expires_at:
            raise TokenError("expired", "the token's session window has passed")
        return Session(claims, secret_keys=secret_keys)

    def _verify_signed(self, token: object) -> _Verified:
        """Everything ``verify`` checks except the clock."""
        if not isinstance(token, str) or not token:
            raise TokenError("malformed", "the token must be a non-empty string")
        if len(token) > MAX_TOKEN_CHARS:
            raise TokenError("malformed", f"the token is longer than {MAX_TOKEN_CHARS} chars")
        if token.count(".") != 2:
            raise TokenError("malformed", "the token must have three dot-separated parts")
        try:
            decoded = self._jws.decode_complete(token, self._verifying_key, self._algorithms)
        except InvalidAlgorithmError as exc:
            raise TokenError(
                "algorithm", f"the token is not signed with {self._algorithm}"
            ) from exc
        except InvalidSignatureError as exc:
            raise TokenError("signature", "the token's signature does not match") from exc
        except (PyJWTError, ValueError, TypeError) as exc:
            raise TokenError("malformed", "the token cannot be decoded") from exc
        try:
            claims = json.loads(decoded["payload"])
        except (ValueError, RecursionError) as exc:
            raise TokenError("malformed", "the token's payload is not JSON") from exc
        if not isinstance(claims, dict):
            raise TokenError("malformed", "the token's payload is not a JSON object")

        if claims.get("iss") != self._issuer:
            raise TokenError("issuer", "the token was not issued by this mesh")
        issued_at = claims.get("iat")
        expires_at = claims.get("exp")
        if not (_is_time(issued_at) and _is_time(expires_at)):
            raise TokenError("claims", "the token needs numeric 'iat' and 'exp' claims")
        not_before = claims.get("nbf", issued_at)
        if not _is_time(not_before):
            raise TokenError("claims", "the token's 'nbf' claim is not numeric")

        sealed = claims.pop("qewd", None)
        secret_keys: frozenset[str] = frozenset()
        if sealed is not None:
            hidden = self._open(sealed, _associated_data(claims))
            if not claims.keys().isdisjoint(hidden) or not RESERVED_CLAIMS.isdisjoint(hidden):
                raise TokenError("secret", "the token's secret claims clash with its public ones")
            claims.update(hidden)
            secret_keys = frozenset(hidden)
        return claims, secret_keys, issued_at, not_before, expires_at

    def refresh(self, session: Session, now: float) -> str:
        """Re-sign ``session`` with ``iat = now`` and ``exp = now + timeout`` (sliding expiry).

        ``iss``, ``iat``, ``exp``, ``timeout``, ``sid`` and ``qewd`` are set here, whatever
        the handler wrote: a handler may shorten the window via ``timeout`` but never
        extend it past ``session_timeout``.
        """
        if "role" in session:
            raise TokenUsageError("a session with a 'role' claim is never refreshed")
        secret_keys = session.secret_keys
        if not RESERVED_CLAIMS.isdisjoint(secret_keys):
            raise TokenUsageError("reserved claims cannot be secret")
        timeout = session.get("timeout")
        if type(timeout) is not int or not 0 < timeout <= self._timeout:
            timeout = self._timeout
        sid = session.get("sid")
        if not isinstance(sid, str) or not sid:
            sid = _new_session_id()
        payload: dict[str, object] = {}
        hidden: dict[str, object] = {}
        for name, value in session.items():
            if name in _SET_BY_REFRESH:
                continue
            if name in secret_keys:
                hidden[name] = value
            else:
                payload[name] = value
        issued_at = math.floor(now)
        payload["iss"] = self._issuer
        payload["iat"] = issued_at
        payload["exp"] = issued_at + timeout
        payload["timeout"] = timeout
        payload["sid"] = sid
        if hidden:
            payload["qewd"] = self._seal(hidden, sid.encode("utf-8"))
        return self._sign(payload)

    def issue_role(self, role: str, sub: str, now: float, ttl: float) -> str:
        """A token for a person, tool or node: ``role`` admin, monitor or node; ``sub`` names it."""
        if role not in ROLES:
            raise TokenUsageError(f"role must be one of {', '.join(sorted(ROLES))}")
        if not isinstance(sub, str) or not sub:
            raise TokenUsageError("a role token needs a non-empty 'sub'")
        if not 0 < ttl < math.inf:
            raise TokenUsageError("a role token needs a positive, finite ttl")
        return self._sign(
            {
                "iss": self._issuer,
                "iat": math.floor(now),
                "exp": math.ceil(now + ttl),
                "role": role,
                "sub": sub,
            }
        )

    def node_token(self, node_name: str, now: float, ttl: float = 3600) -> str:
        """The token a node presents when it opens a link: role ``node``, sub ``node:<name>``."""
        if not isinstance(node_name, str) or not node_name:
            raise TokenUsageError("a node token needs a non-empty node name")
        return self.issue_role("node", f"node:{node_name}", now, ttl)

    def _sign(self, payload: Mapping[str, object]) -> str:
        if self._signing_key is None:
            raise TokenUsageError(
                f"this {self._algorithm} token service only verifies: it has no private key"
            )
        try:
            body = self._encoder.encode(payload).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise TokenUsageError(f"session claims must be plain JSON values: {exc}") from exc
        return self._jws.encode(body, self._signing_key, algorithm=self._algorithm)

    def _seal(self, hidden: Mapping[str, object], associated_data: bytes) -> str:
        if self._aead is None:
            raise TokenUsageError(
                f"secret claims need [jwt] secret; {self._algorithm} settings have none"
            )
        try:
            plain = self._encoder.encode(hidden).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise TokenUsageError(f"secret claims must be plain JSON values: {exc}") from exc
        nonce = os.urandom(_NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, plain, associated_data)
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")

    def _open(self, sealed: object, associated_data: bytes) -> dict[str, object]:
        if self._aead is None:
            raise TokenError("secret", "this node has no secret to open secret claims")
        if not isinstance(sealed, str) or len(sealed) > MAX_TOKEN_CHARS:
            raise TokenError("secret", "the token's 'qewd' claim is not a string of sane length")
        try:
            raw = base64.b64decode(sealed + "=" * (-len(sealed) % 4), b"-_", validate=True)
            if len(raw) < _NONCE_BYTES + _TAG_BYTES:
                raise ValueError("too short")
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], associated_data)
            hidden = json.loads(plain)
        except (binascii.Error, ValueError, InvalidTag, RecursionError) as exc:
            raise TokenError("secret", "the token's secret claims fail authentication") from exc
        if not isinstance(hidden, dict):
            raise TokenError("secret", "the token's secret claims are not a JSON object")
        return hidden


def _is_time(value: object) -> TypeGuard[int | float]:
    """A JSON number usable as a timestamp (bool is not one; NaN and inf are refused)."""
    return type(value) is int or (type(value) is float and math.isfinite(value))


def _associated_data(claims: Mapping[str, object]) -> bytes:
    """What a sealed blob is bound to: the token's session id (or, lacking one, its issuer)."""
    anchor = claims.get("sid")
    if not isinstance(anchor, str):
        anchor = claims.get("iss")
    return str(anchor).encode("utf-8")


def _new_session_id() -> str:
    return secrets.token_urlsafe(16)
