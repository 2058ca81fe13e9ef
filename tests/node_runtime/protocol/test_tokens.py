"""Tests of node_runtime.protocol.tokens: issuing, verifying and sliding the mesh's JWTs."""

from __future__ import annotations

import base64
import hmac
import json
import pickle
import random

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from node_runtime.errors import NodeError, RemoteError
from node_runtime.protocol.codes import ErrorCode
from node_runtime.protocol.tokens import (
    MAX_TOKEN_CHARS,
    Session,
    TokenError,
    TokenService,
    TokenSettings,
    TokenSettingsError,
    TokenUsageError,
)

SECRET = "a-test-mesh-secret-that-is-32-bytes-or-more"
NOW = 1_700_000_000.0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _raw_claims(token: str) -> dict[str, object]:
    """The payload of ``token`` read without any verification, as a client could."""
    claims = jwt.decode(token, options={"verify_signature": False})
    assert isinstance(claims, dict)
    return claims


def _forge(
    payload: object, key: bytes, header: dict[str, object] | None = None, digest: str = "sha256"
) -> str:
    """A compact JWS built by hand, so tests control every byte (and any key)."""
    head = header if header is not None else {"alg": "HS256", "typ": "JWT"}
    signing_input = f"{_b64(json.dumps(head).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = hmac.new(key, signing_input.encode("ascii"), digest).digest()
    return f"{signing_input}.{_b64(signature)}"


def _valid_claims(**changes: object) -> dict[str, object]:
    claims: dict[str, object] = {
        "iss": "qewd-mesh",
        "iat": int(NOW),
        "exp": int(NOW) + 1200,
        "application": "clinic",
        "timeout": 1200,
        "sid": "s1",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _refused(service: TokenService, token: object, now: float = NOW) -> TokenError:
    with pytest.raises(TokenError) as info:
        service.verify(token, now)
    return info.value


@pytest.fixture
def service() -> TokenService:
    return TokenService(TokenSettings(secret=SECRET))


@pytest.fixture(scope="module")
def rsa_pems() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _pems(key)


@pytest.fixture(scope="module")
def ec_pems() -> tuple[bytes, bytes]:
    return _pems(ec.generate_private_key(ec.SECP256R1()))


def _pems(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> tuple[bytes, bytes]:
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def test_issue_verify_round_trip(service: TokenService) -> None:
    """A session token verifies to its claims: iss, iat, exp = iat + timeout, app, sid."""
    token = service.issue_session("clinic", NOW, {"nickname": "rob"})
    session = service.verify(token, NOW + 1)
    assert session["iss"] == "qewd-mesh"
    assert session["iat"] == int(NOW)
    assert session["exp"] == int(NOW) + 1200
    assert session["timeout"] == 1200
    assert session["application"] == "clinic"
    assert session["nickname"] == "rob"
    assert isinstance(session["sid"], str)
    assert len(str(session["sid"])) >= 16
    assert session.secret_keys == set()
    assert "qewd" not in _raw_claims(token)


def test_time_checks_use_now_not_the_wall_clock(service: TokenService) -> None:
    """Tokens are judged against the ``now`` passed in, whether it lies in 1970 or 2100."""
    for when in (1_000_000.0, 4_102_444_800.0):
        assert service.verify(service.issue_session("clinic", when), when)["iat"] == int(when)


def test_two_sessions_get_different_ids(service: TokenService) -> None:
    """Each issued session carries its own random sid."""
    first = service.verify(service.issue_session("clinic", NOW), NOW)
    second = service.verify(service.issue_session("clinic", NOW), NOW)
    assert first["sid"] != second["sid"]


def test_refresh_slides_expiry(service: TokenService) -> None:
    """Refreshing at a later time moves iat and exp forward and keeps sid and claims."""
    session = service.verify(service.issue_session("clinic", NOW, {"n": 1}), NOW)
    session["authenticated"] = True
    later = NOW + 900
    refreshed = service.verify(service.refresh(session, later), later)
    assert refreshed["iat"] == int(later)
    assert refreshed["exp"] == int(later) + 1200
    assert refreshed["sid"] == session["sid"]
    assert refreshed["n"] == 1
    assert refreshed["authenticated"] is True
    # The original would have expired by now; the refreshed one has not.
    assert _refused(service, service.refresh(session, NOW), later + 400).reason == "expired"
    assert service.verify(service.refresh(session, later), later + 400)["n"] == 1


def test_refresh_sets_window_claims_itself(service: TokenService) -> None:
    """A handler cannot extend exp: refresh overwrites iss/iat/exp and caps timeout."""
    session = service.verify(service.issue_session("clinic", NOW), NOW)
    session.update(exp=NOW + 10**9, iat=NOW + 10**9, iss="someone", timeout=10**6)
    claims = _raw_claims(service.refresh(session, NOW))
    assert claims["iss"] == "qewd-mesh"
    assert claims["iat"] == int(NOW)
    assert claims["exp"] == int(NOW) + 1200
    assert claims["timeout"] == 1200


def test_refresh_honours_a_shorter_timeout(service: TokenService) -> None:
    """A handler may shorten the sliding window by setting a smaller ``timeout``."""
    session = service.verify(service.issue_session("clinic", NOW), NOW)
    session["timeout"] = 60
    claims = _raw_claims(service.refresh(session, NOW))
    assert (claims["timeout"], claims["exp"]) == (60, int(NOW) + 60)


def test_refresh_without_timeout_claim_uses_the_window(service: TokenService) -> None:
    """A session lacking ``timeout`` gets exp = now + session_timeout, never exp = 300."""
    claims = _raw_claims(service.refresh(Session({"application": "clinic"}), NOW))
    assert claims["exp"] == int(NOW) + 1200


def test_expired_token_is_refused_with_its_own_code(service: TokenService) -> None:
    """Past exp (plus leeway) a token fails with E_TOKEN_EXPIRED / "expired"."""
    token = service.issue_session("clinic", NOW)
    assert service.verify(token, NOW + 1200 + 4)["application"] == "clinic"
    error = _refused(service, token, NOW + 1200 + 5)
    assert (error.code, error.reason) == (ErrorCode.TOKEN_EXPIRED, "expired")
    assert error.code == "E_TOKEN_EXPIRED"
    assert isinstance(error, RemoteError)


def test_token_from_the_future_is_not_yet_valid(service: TokenService) -> None:
    """A token whose iat is beyond now + leeway is refused as "not_yet_valid"."""
    token = service.issue_session("clinic", NOW + 60)
    error = _refused(service, token, NOW)
    assert (error.code, error.reason) == (ErrorCode.BAD_TOKEN, "not_yet_valid")
    assert service.verify(token, NOW + 56)["application"] == "clinic"


def test_alg_none_is_refused(service: TokenService) -> None:
    """An unsigned token (header alg "none") fails as "algorithm"."""
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    body = _b64(json.dumps(_valid_claims()).encode())
    for token in (f"{header}.{body}.", f"{header}.{body}.{_b64(b'x')}"):
        error = _refused(service, token)
        assert (error.code, error.reason) == (ErrorCode.BAD_TOKEN, "algorithm")


def test_other_hmac_algorithm_is_refused(service: TokenService) -> None:
    """A token signed with the right secret but HS512 fails on an HS256-pinned service."""
    token = _forge(_valid_claims(), SECRET.encode(), {"alg": "HS512"}, "sha512")
    assert _refused(service, token).reason == "algorithm"


def test_token_signed_with_another_key_is_refused(service: TokenService) -> None:
    """An HS256 token signed with a different secret fails as "signature"."""
    token = _forge(_valid_claims(), b"another-secret-of-thirty-two-bytes-at-least")
    error = _refused(service, token)
    assert (error.code, error.reason) == (ErrorCode.BAD_TOKEN, "signature")


def test_tampered_payload_is_refused(service: TokenService) -> None:
    """Replacing the payload of a valid token breaks its signature."""
    header, _, signature = service.issue_session("clinic", NOW).split(".")
    forged_body = _b64(json.dumps(_valid_claims(exp=int(NOW) + 10**8)).encode())
    assert _refused(service, f"{header}.{forged_body}.{signature}").reason == "signature"


def test_forged_claims_signed_with_the_secret_verify(service: TokenService) -> None:
    """The forging helper is sound: well-formed claims signed with the mesh secret verify."""
    assert service.verify(_forge(_valid_claims(), SECRET.encode()), NOW)["sid"] == "s1"


def test_wrong_issuer_is_refused(service: TokenService) -> None:
    """A token from another issuer (QEWD's own "qewd.jwt", or none) fails as "issuer"."""
    for issuer in ("qewd.jwt", None):
        assert _refused(service, _forge(_valid_claims(iss=issuer), SECRET.encode())).reason == (
            "issuer"
        )


@pytest.mark.parametrize(
    "claims",
    [
        _valid_claims(exp=None),
        _valid_claims(iat=None),
        _valid_claims(exp="2030-01-01"),
        _valid_claims(iat=True),
        _valid_claims(nbf="soon"),
    ],
)
def test_missing_or_ill_typed_times_are_refused(
    service: TokenService, claims: dict[str, object]
) -> None:
    """Tokens without numeric iat and exp (or with a non-numeric nbf) fail as "claims"."""
    assert _refused(service, _forge(claims, SECRET.encode())).reason == "claims"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc.def",
        "a.b.c.d",
        "!!!.###.$$$",
        "eyJhbGciOiJIUzI1NiJ9.@@@@.c2ln",
        "bm90IGpzb24.e30.c2ln",
        "x" * (MAX_TOKEN_CHARS + 1),
        42,
        None,
        b"a.b.c",
    ],
)
def test_malformed_tokens_are_refused(service: TokenService, token: object) -> None:
    """Empty, wrongly segmented, non-base64, non-JSON, oversize or non-string tokens fail."""
    error = _refused(service, token)
    assert (error.code, error.reason) == (ErrorCode.BAD_TOKEN, "malformed")


def test_signed_non_object_payload_is_malformed(service: TokenService) -> None:
    """A correctly signed payload that is a JSON list, not an object, fails as "malformed"."""
    assert _refused(service, _forge([1, 2], SECRET.encode())).reason == "malformed"


def test_mangled_tokens_only_ever_raise_token_error(service: TokenService) -> None:
    """Random byte edits of a valid token never escape as anything but a TokenError."""
    token = service.issue_session("clinic", NOW, secret_claims={"pin": 1234})
    alphabet = "abcXYZ019-_.=!{}\"'\\ \x00é"
    chooser = random.Random(20240601)
    for _ in range(2000):
        chars = list(token)
        for _ in range(chooser.randint(1, 4)):
            chars[chooser.randrange(len(chars))] = chooser.choice(alphabet)
        mangled = "".join(chars)
        if mangled == token:
            continue
        with pytest.raises(TokenError):
            service.verify(mangled, NOW)


def test_key_confusion_hs256_with_rsa_public_key_is_refused(rsa_pems: tuple[bytes, bytes]) -> None:
    """An HS256 token keyed with the RSA public key PEM fails on an RS256 service."""
    private_pem, public_pem = rsa_pems
    service = TokenService(
        TokenSettings(algorithm="RS256", private_key_pem=private_pem, public_key_pem=public_pem)
    )
    error = _refused(service, _forge(_valid_claims(), public_pem))
    assert (error.code, error.reason) == (ErrorCode.BAD_TOKEN, "algorithm")


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_asymmetric_round_trip_and_verify_only_service(
    algorithm: str, rsa_pems: tuple[bytes, bytes], ec_pems: tuple[bytes, bytes]
) -> None:
    """RS256/ES256 tokens verify with the public key alone; a verify-only service cannot sign."""
    private_pem, public_pem = rsa_pems if algorithm == "RS256" else ec_pems
    signer = TokenService(
        TokenSettings(algorithm=algorithm, private_key_pem=private_pem, public_key_pem=public_pem)
    )
    verifier = TokenService(TokenSettings(algorithm=algorithm, public_key_pem=public_pem))
    token = signer.issue_session("clinic", NOW, {"n": 7})
    assert jwt.get_unverified_header(token)["alg"] == algorithm
    session = verifier.verify(token, NOW)
    assert session["n"] == 7
    assert signer.verify(signer.refresh(session, NOW + 5), NOW + 5)["n"] == 7
    assert (signer.can_sign, verifier.can_sign) == (True, False)
    with pytest.raises(TokenUsageError, match="only verifies"):
        verifier.refresh(session, NOW)
    with pytest.raises(TokenUsageError, match="only verifies"):
        verifier.node_token("orchestrator", NOW)


def test_private_key_alone_is_enough_to_sign_and_verify(ec_pems: tuple[bytes, bytes]) -> None:
    """Given only a private key, the service derives the public key to verify with."""
    service = TokenService(TokenSettings(algorithm="ES256", private_key_pem=ec_pems[0]))
    assert service.verify(service.issue_session("clinic", NOW), NOW)["application"] == "clinic"


def test_asymmetric_service_without_secret_has_no_secret_claims(
    rsa_pems: tuple[bytes, bytes],
) -> None:
    """Without a secret, RS256 cannot seal secret claims nor open them."""
    private_pem, public_pem = rsa_pems
    plain = TokenService(
        TokenSettings(algorithm="RS256", private_key_pem=private_pem, public_key_pem=public_pem)
    )
    session = plain.verify(plain.issue_session("clinic", NOW), NOW)
    session["pin"] = 1
    session.make_secret("pin")
    with pytest.raises(TokenUsageError, match="secret claims need"):
        plain.refresh(session, NOW)
    sealing = TokenService(
        TokenSettings(
            algorithm="RS256", secret=SECRET, private_key_pem=private_pem, public_key_pem=public_pem
        )
    )
    token = sealing.refresh(session, NOW)
    assert sealing.verify(token, NOW)["pin"] == 1
    assert _refused(plain, token).reason == "secret"


def test_secret_claims_round_trip_and_stay_hidden(service: TokenService) -> None:
    """Secret claims come back from verify but appear nowhere in the readable payload."""
    token = service.issue_session(
        "clinic", NOW, {"shown": "public-value"}, secret_claims={"password": "hunter2-xyz"}
    )
    raw = _raw_claims(token)
    assert raw["shown"] == "public-value"
    assert "password" not in raw
    assert "hunter2-xyz" not in json.dumps(raw)
    assert "hunter2-xyz" not in _unb64(str(raw["qewd"])).decode("latin-1")
    session = service.verify(token, NOW)
    assert session["password"] == "hunter2-xyz"
    assert session.is_secret("password")
    assert not session.is_secret("shown")


def test_make_secret_and_make_public_take_effect_on_refresh(service: TokenService) -> None:
    """A claim a handler makes secret is sealed in the refreshed token; make_public undoes it."""
    session = service.verify(service.issue_session("clinic", NOW), NOW)
    session["authenticated"] = True
    session.make_secret("authenticated")
    token = service.refresh(session, NOW)
    assert "authenticated" not in _raw_claims(token)
    again = service.verify(token, NOW)
    assert again["authenticated"] is True
    assert again.secret_keys == {"authenticated"}
    again.make_public("authenticated")
    assert _raw_claims(service.refresh(again, NOW))["authenticated"] is True


def test_reserved_claims_cannot_be_secret_or_supplied(service: TokenService) -> None:
    """Reserved claim names are refused as secret claims and as caller-supplied claims."""
    session = Session()
    for name in ("exp", "iat", "iss", "sid", "qewd", "role", "sub", "application", "timeout"):
        with pytest.raises(TokenUsageError, match="reserved"):
            session.make_secret(name)
        with pytest.raises(TokenUsageError, match="reserved"):
            service.issue_session("clinic", NOW, {name: 1})
    session.secret_keys.add("exp")
    with pytest.raises(TokenUsageError, match="reserved"):
        service.refresh(session, NOW)


def _resign(token: str, **changes: object) -> str:
    """``token``'s claims with ``changes``, validly signed with the mesh secret."""
    return _forge({**_raw_claims(token), **changes}, SECRET.encode())


def test_tampered_or_moved_secret_blob_is_refused(service: TokenService) -> None:
    """A qewd blob edited, or moved into another session's token, fails as "secret"."""
    first = service.issue_session("clinic", NOW, secret_claims={"role_in_app": "doctor"})
    second = service.issue_session("clinic", NOW, secret_claims={"role_in_app": "nurse"})
    blob = str(_raw_claims(first)["qewd"])
    assert service.verify(_resign(first), NOW)["role_in_app"] == "doctor"
    assert _refused(service, _resign(second, qewd=blob)).reason == "secret"
    assert _refused(service, _resign(first, sid="another-session")).reason == "secret"
    flipped = blob[:20] + ("A" if blob[20] != "A" else "B") + blob[21:]
    for bad in (flipped, blob[:30], "", "not base64 !", 12345):
        error = _refused(service, _resign(first, qewd=bad))
        assert (error.code, error.reason) == (ErrorCode.BAD_TOKEN, "secret")


def test_blob_sealed_under_another_secret_is_refused(service: TokenService) -> None:
    """A blob sealed by a mesh with a different secret fails to open as "secret"."""
    other = TokenService(TokenSettings(secret="some-other-mesh-secret-0123456789abcdef"))
    foreign = _raw_claims(other.issue_session("clinic", NOW, secret_claims={"pin": 1}))
    token = service.issue_session("clinic", NOW)
    forged = _resign(token, qewd=foreign["qewd"], sid=foreign["sid"])
    assert _refused(service, forged).reason == "secret"


def test_secret_claims_clashing_with_public_ones_are_refused(service: TokenService) -> None:
    """A token whose public claims repeat a sealed name fails as "secret"."""
    token = service.issue_session("clinic", NOW, secret_claims={"pin": 1})
    assert _refused(service, _resign(token, pin=2)).reason == "secret"


def test_nonce_differs_between_refreshes(service: TokenService) -> None:
    """Two refreshes of the same session seal the same secrets under different nonces."""
    session = service.verify(service.issue_session("clinic", NOW, secret_claims={"p": 1}), NOW)
    blobs = [_unb64(str(_raw_claims(service.refresh(session, NOW))["qewd"])) for _ in range(2)]
    assert blobs[0][:12] != blobs[1][:12]
    assert blobs[0] != blobs[1]


def test_role_and_node_tokens(service: TokenService) -> None:
    """Role tokens carry role and sub with exp = now + ttl; node tokens name the node."""
    admin = service.verify(service.issue_role("admin", "alice", NOW, 60.5), NOW)
    assert (admin["role"], admin["sub"]) == ("admin", "alice")
    assert admin["exp"] == int(NOW) + 61
    node = service.verify(service.node_token("orchestrator", NOW), NOW + 3000)
    assert (node["role"], node["sub"]) == ("node", "node:orchestrator")
    assert _refused(service, service.node_token("w1", NOW, ttl=10), NOW + 20).reason == "expired"
    monitor = service.verify(service.issue_role("monitor", "console", NOW, 10), NOW)
    assert monitor["role"] == "monitor"
    with pytest.raises(TokenUsageError, match="role must be"):
        service.issue_role("root", "alice", NOW, 60)
    with pytest.raises(TokenUsageError, match="ttl"):
        service.issue_role("admin", "alice", NOW, 0)
    with pytest.raises(TokenUsageError, match="sub"):
        service.issue_role("admin", "", NOW, 60)


def test_role_cannot_be_smuggled_into_a_session(service: TokenService) -> None:
    """A handler that writes a role into a session gets an error, not an admin token."""
    session = service.verify(service.issue_session("clinic", NOW), NOW)
    session["role"] = "admin"
    with pytest.raises(TokenUsageError, match="role"):
        service.refresh(session, NOW)
    with pytest.raises(TokenUsageError, match="role"):
        service.refresh(service.verify(service.issue_role("admin", "a", NOW, 60), NOW), NOW)


def test_non_json_claims_give_a_usage_error(service: TokenService) -> None:
    """A handler that stores a non-JSON value in the session gets a clear error."""
    session = service.verify(service.issue_session("clinic", NOW), NOW)
    session["when"] = object()
    with pytest.raises(TokenUsageError, match="JSON"):
        service.refresh(session, NOW)
    session["when"] = float("nan")
    with pytest.raises(TokenUsageError, match="JSON"):
        service.refresh(session, NOW)


@pytest.mark.parametrize(
    ("settings", "setting"),
    [
        (TokenSettings(), "secret"),
        (TokenSettings(algorithm="HS512"), "secret"),
        (TokenSettings(secret=""), "secret"),
        (TokenSettings(algorithm="none", secret=SECRET), "algorithm"),
        (TokenSettings(algorithm="HS1", secret=SECRET), "algorithm"),
        (TokenSettings(algorithm="RS256", secret=SECRET), "public_key_pem"),
        (TokenSettings(algorithm="ES256"), "public_key_pem"),
        (TokenSettings(algorithm="RS256", public_key_pem=b"not a pem"), "public_key_pem"),
        (TokenSettings(secret=SECRET, session_timeout=0), "session_timeout"),
        (TokenSettings(secret=SECRET, leeway=-1), "leeway"),
        (TokenSettings(secret=SECRET, issuer=""), "issuer"),
    ],
)
def test_unusable_settings_fail_at_construction(settings: TokenSettings, setting: str) -> None:
    """Missing secrets or keys, unknown algorithms and bad numbers fail at construction."""
    with pytest.raises(TokenSettingsError) as info:
        TokenService(settings)
    assert info.value.setting == setting
    assert info.value.code == "E_CONFIG"
    assert isinstance(info.value, NodeError)


def test_mismatched_or_wrong_kind_keys_fail_at_construction(
    rsa_pems: tuple[bytes, bytes], ec_pems: tuple[bytes, bytes]
) -> None:
    """Keys of the wrong kind, curve or size, or a pair that does not match, are refused."""
    other_rsa = _pems(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    # A deliberately weak key: the service must refuse it.
    small_rsa = _pems(rsa.generate_private_key(public_exponent=65537, key_size=1024))  # noqa: S505
    p384 = _pems(ec.generate_private_key(ec.SECP384R1()))
    cases = [
        ("RS256", rsa_pems[0], other_rsa[1], "private_key_pem"),
        ("RS256", None, ec_pems[1], "public_key_pem"),
        ("RS256", ec_pems[0], rsa_pems[1], "private_key_pem"),
        ("RS256", None, small_rsa[1], "public_key_pem"),
        ("ES256", None, p384[1], "public_key_pem"),
        ("ES256", None, rsa_pems[1], "public_key_pem"),
        ("ES256", b"garbage", ec_pems[1], "private_key_pem"),
    ]
    for algorithm, private_pem, public_pem, setting in cases:
        settings = TokenSettings(
            algorithm=algorithm, private_key_pem=private_pem, public_key_pem=public_pem
        )
        with pytest.raises(TokenSettingsError) as info:
            TokenService(settings)
        assert info.value.setting == setting, (algorithm, setting)


def test_pem_as_hmac_secret_is_refused(rsa_pems: tuple[bytes, bytes]) -> None:
    """An HMAC secret that is really a PEM key is refused, without echoing it."""
    pem = rsa_pems[1].decode()
    with pytest.raises(TokenSettingsError) as info:
        TokenService(TokenSettings(secret=pem))
    assert pem not in str(info.value)
    assert "BEGIN" not in str(info.value)


def test_secret_never_appears_in_reprs_or_errors(service: TokenService) -> None:
    """Neither the settings, the service nor any refusal message shows the secret."""
    settings = TokenSettings(secret=SECRET, private_key_pem=b"PRIVATE-PEM-BYTES")
    shown = [repr(settings), str(settings), repr(service), str(service)]
    token = service.issue_session("clinic", NOW, secret_claims={"pin": "9876-secret-pin"})
    for bad in (token + "x", token[:-4], _resign(token, qewd="AAAA"), "", token):
        try:
            service.verify(bad, NOW + 10**6)
        except TokenError as error:
            shown += [str(error), repr(error), repr(error.__cause__)]
    assert len(shown) == 4 + 5 * 3
    for text in shown:
        assert SECRET not in text
        assert "PRIVATE-PEM-BYTES" not in text
    session = service.verify(token, NOW)
    assert "9876-secret-pin" not in repr(session)
    assert "9876-secret-pin" not in str(session)
    assert "<secret>" in repr(session)


def test_short_secret_works_and_is_reported_once() -> None:
    """A short secret ("change-me") works without per-call warnings; a notice says it is short."""
    service = TokenService(TokenSettings(secret="change-me"))
    assert service.secret_notice is not None
    assert "9 bytes" in service.secret_notice
    assert "change-me" not in service.secret_notice
    assert service.verify(service.issue_session("clinic", NOW), NOW)["application"] == "clinic"
    assert TokenService(TokenSettings(secret=SECRET)).secret_notice is None


def test_session_wire_form_round_trips(service: TokenService) -> None:
    """to_wire gives JSON- and pickle-safe data from which from_wire rebuilds the session."""
    token = service.issue_session("clinic", NOW, {"a": [1, 2]}, secret_claims={"pin": "77"})
    session = service.verify(token, NOW)
    wire = session.to_wire()
    # Pickling our own data back is exactly what the worker pipe does; nothing untrusted here.
    pickled = pickle.loads(pickle.dumps(wire))  # noqa: S301
    for copy in (json.loads(json.dumps(wire)), pickled):
        rebuilt = Session.from_wire(copy)
        assert rebuilt == session
        assert rebuilt.secret_keys == {"pin"}
    unpickled = pickle.loads(pickle.dumps(session))  # noqa: S301
    assert (unpickled, unpickled.secret_keys) == (session, {"pin"})
    refreshed = service.verify(service.refresh(Session.from_wire(wire), NOW), NOW)
    assert refreshed["pin"] == "77"
    assert refreshed.is_secret("pin")


@pytest.mark.parametrize(
    "wire",
    [
        {},
        {"claims": [], "secret_keys": []},
        {"claims": {}, "secret_keys": "pin"},
        {"claims": {1: 2}, "secret_keys": []},
        {"claims": {}, "secret_keys": ["exp"]},
    ],
)
def test_session_wire_form_rejects_other_shapes(wire: dict[object, object]) -> None:
    """from_wire refuses anything that is not the shape to_wire produces."""
    with pytest.raises(TokenError) as info:
        Session.from_wire(wire)  # type: ignore[arg-type]
    assert info.value.reason == "malformed"
