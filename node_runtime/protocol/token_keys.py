"""Key material of the mesh's JWTs: HMAC secrets and RS256/ES256 key pairs, checked once.

Owns loading and checking keys (type, curve, size, pair match) and the HMAC algorithm
object PyJWT signs with, so ``tokens`` holds only the claim rules. Pure: it parses key
bytes it is given and never reads files.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import HMACAlgorithm
from jwt.exceptions import InvalidKeyError

from node_runtime.errors import NodeError

if TYPE_CHECKING:
    from node_runtime.protocol.tokens import TokenSettings

HMAC_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
MIN_RSA_BITS = 2048


class TokenSettingsError(NodeError):
    """The JWT settings cannot work (unknown algorithm, missing or unusable key)."""

    def __init__(self, setting: str, reason: str) -> None:
        super().__init__(f"jwt {setting}: {reason}", "E_CONFIG")
        self.setting = setting
        self.reason = reason


class PreparedHMAC(HMACAlgorithm):
    """PyJWT's HMAC with the key checked once at construction instead of on every call.

    PyJWT re-validates an HMAC key (PEM, DER, JWK sniffing) on each sign and verify,
    which costs more than the HMAC itself, and warns about short keys each time.
    """

    def __init__(self, algorithm: str, key: bytes) -> None:
        super().__init__(HMAC_HASHES[algorithm])
        try:
            self.key = super().prepare_key(key)
        except InvalidKeyError as exc:
            raise TokenSettingsError(
                "secret", "looks like an asymmetric key or a JWK; use a random string"
            ) from exc
        self.length_notice = super().check_key_length(self.key)

    def prepare_key(self, key: str | bytes) -> bytes:
        return self.key if key is self.key else super().prepare_key(key)

    def check_key_length(self, key: bytes) -> str | None:
        # Reported once as TokenService.secret_notice rather than warned on each call.
        return None


SigningKey = bytes | rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
VerifyingKey = bytes | rsa.RSAPublicKey | ec.EllipticCurvePublicKey
KEY_TYPES = {
    "RS256": (rsa.RSAPrivateKey, rsa.RSAPublicKey),
    "ES256": (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey),
}


def load_key_pair(settings: TokenSettings) -> tuple[SigningKey | None, VerifyingKey]:
    """Load and check the PEM keys for RS256/ES256 once, at construction."""
    algorithm = settings.algorithm
    private_type, public_type = KEY_TYPES[algorithm]
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None
    if settings.private_key_pem is not None:
        try:
            loaded = serialization.load_pem_private_key(settings.private_key_pem, None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise TokenSettingsError("private_key_pem", "not an unencrypted PEM key") from exc
        # The first check narrows the type for mypy, the second picks the algorithm's kind.
        if not isinstance(loaded, SigningKey) or not isinstance(loaded, private_type):
            raise TokenSettingsError("private_key_pem", f"not a key for {algorithm}")
        private_key = loaded
    if settings.public_key_pem is not None:
        try:
            public_key = serialization.load_pem_public_key(settings.public_key_pem)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise TokenSettingsError("public_key_pem", "not a PEM public key") from exc
    elif private_key is not None:
        public_key = private_key.public_key()
    else:
        raise TokenSettingsError("public_key_pem", f"{algorithm} needs a public key to verify")
    if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size < MIN_RSA_BITS:
        raise TokenSettingsError("public_key_pem", f"RSA keys need >= {MIN_RSA_BITS} bits")
    if isinstance(public_key, ec.EllipticCurvePublicKey) and public_key.curve.name != "secp256r1":
        raise TokenSettingsError("public_key_pem", "ES256 needs a P-256 (secp256r1) key")
    if not isinstance(public_key, VerifyingKey) or not isinstance(public_key, public_type):
        raise TokenSettingsError("public_key_pem", f"not a key for {algorithm}")
    if private_key is not None:
        spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        if private_key.public_key().public_bytes(*spki) != public_key.public_bytes(*spki):
            raise TokenSettingsError("private_key_pem", "does not match public_key_pem")
    return private_key, public_key
