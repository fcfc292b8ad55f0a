"""Unit tests of TokenCodec: claims to Principal, and one stable code per refusal; and of an
event link's end with its tournament (LinkService.check on a fake clock)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from storage.memory import MemoryStore
from tournament.links import AFTER_END_S, CHECK_CACHE_S, LINK_TTL_S, LinkService
from tournament.models import Participant, Tournament, TournamentState
from tournament.roles import Principal, Role
from tournament import tokens as tokens_module
from tournament.tokens import AuthError, TokenCodec

SECRET = "unit-test-secret-" + "0123456789abcdef" * 4  # long enough for HS512 without warnings
OTHER_SECRET = "another-secret-" + "fedcba9876543210" * 4
NOW = 1_700_000_000.0  # the fake clock's reading unless a test moves it
# Claims tests use tokens that outlive any clock, so that they test the claims and nothing else.
FAR_EXP = 4_102_444_800  # 2100-01-01


class FakeClock:
    """A clock that only moves when a test says so."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def codec(clock: Callable[[], float] | None = None) -> TokenCodec:
    return TokenCodec(SECRET, clock=clock or FakeClock())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_token(header: dict[str, Any], claims: dict[str, Any], secret: str | None = SECRET) -> str:
    """A JWT built by hand, HMAC-SHA256-signed with `secret` or unsigned when secret is None."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    if secret is None:
        return signing_input + "."
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def token(claims: dict[str, Any], secret: str = SECRET, algorithm: str = "HS256") -> str:
    """A token signed by PyJWT; `exp` defaults to FAR_EXP."""
    return jwt.encode({"exp": FAR_EXP, **claims}, secret, algorithm=algorithm)


def refused(tok: str, clock: Callable[[], float] | None = None) -> AuthError:
    with pytest.raises(AuthError) as info:
        codec(clock).decode(tok)
    return info.value


# --- accepted tokens -----------------------------------------------------------------------

def test_issued_token_round_trips() -> None:
    """A token the codec issued decodes to the same principal, with its expiry from the clock."""
    clock = FakeClock()
    tokens = codec(clock)
    tok, exp = tokens.issue("alice", "Alice", Role.PLAYER, 3600)
    assert exp == int(NOW) + 3600
    clock.now = NOW + 60
    assert tokens.decode(tok) == Principal(user_id="alice", name="Alice", role=Role.PLAYER)


def test_issued_token_carries_the_standard_claims() -> None:
    """Issued tokens are HS256 with sub, username, role, iat and exp."""
    tok, exp = codec().issue("bob", "Bob", Role.ORGANIZER, 600)
    assert jwt.get_unverified_header(tok)["alg"] == "HS256"
    claims = jwt.decode(tok, SECRET, algorithms=["HS256"], options={"verify_exp": False,
                                                                    "verify_iat": False})
    assert claims == {"sub": "bob", "username": "Bob", "role": "organizer", "iat": int(NOW),
                      "exp": exp}


def test_sub_username_and_role_are_read() -> None:
    """sub, username and role map to user_id, name and role."""
    principal = codec().decode(token({"sub": "u1", "username": "Ada", "role": "organizer"}))
    assert principal == Principal(user_id="u1", name="Ada", role=Role.ORGANIZER)


@pytest.mark.parametrize("user_id", ["42", 42], ids=["str", "int"])
def test_user_id_claim_is_accepted_instead_of_sub(user_id: object) -> None:
    """A Django simplejwt token (user_id, no sub) names the user by user_id."""
    claims = {"user_id": user_id, "token_type": "access", "jti": "abc123", "role": "player"}
    principal = codec().decode(token(claims))
    assert principal == Principal(user_id="42", name="42", role=Role.PLAYER)


def test_name_claim_is_accepted_instead_of_username() -> None:
    """`name` gives the display name when `username` is absent."""
    principal = codec().decode(token({"sub": "u1", "name": "Grace"}))
    assert principal.name == "Grace"


def test_username_wins_over_name() -> None:
    """When both are present, `username` is the display name."""
    assert codec().decode(token({"sub": "u1", "username": "ada", "name": "Ada L."})).name == "ada"


def test_missing_role_means_spectator() -> None:
    """A token without a role claim is a spectator's."""
    assert codec().decode(token({"sub": "u1"})).role is Role.SPECTATOR


@pytest.mark.parametrize(("claim", "role"), [
    ("participant", Role.PLAYER), ("player", Role.PLAYER), ("spectator", Role.SPECTATOR),
    ("organizer", Role.ORGANIZER), ("admin", Role.ADMIN),
])
def test_role_names(claim: str, role: Role) -> None:
    """Each role name maps to its Role; `participant` is a player."""
    assert codec().decode(token({"sub": "u1", "role": claim})).role is role


# --- the injected clock decides validity ---------------------------------------------------

@pytest.mark.parametrize("start", [1_000_000_000.0, NOW, 4_000_000_000.0],
                         ids=["2001", "2023", "2096"])
def test_expiry_follows_the_injected_clock(start: float) -> None:
    """Whatever the wall clock says, the codec's clock decides: valid before exp, expired after."""
    clock = FakeClock(start)
    tokens = TokenCodec(SECRET, clock=clock, leeway_s=5.0)
    tok, exp = tokens.issue("alice", "Alice", Role.PLAYER, 3600)
    clock.now = exp - 1
    assert tokens.decode(tok).user_id == "alice"
    clock.now = exp + 2  # inside the leeway
    assert tokens.decode(tok).user_id == "alice"
    clock.now = exp + 6
    with pytest.raises(AuthError) as info:
        tokens.decode(tok)
    assert info.value.code == "token_expired"


def test_a_verified_token_is_kept_but_a_changed_copy_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """A token seen before is not verified again (its times are: the test above); one byte
    changed in its signature is refused; past VERIFIED_MAX the oldest is forgotten."""
    monkeypatch.setattr(tokens_module, "VERIFIED_MAX", 2)
    tokens = TokenCodec(SECRET, clock=FakeClock())
    first, _ = tokens.issue("alice", "Alice", Role.PLAYER, 3600)
    verified: list[str] = []
    real = tokens._verify

    def counted(tok: str) -> dict[str, Any]:
        verified.append(tok)
        return real(tok)

    monkeypatch.setattr(tokens, "_verify", counted)
    assert tokens.decode(first).user_id == tokens.decode(first).user_id == "alice"
    assert verified == [first]
    forged = first[:-2] + ("A" if first[-2] != "A" else "B") + first[-1]
    with pytest.raises(AuthError) as info:
        tokens.decode(forged)
    assert info.value.code in ("token_signature_invalid", "token_malformed")
    second, _ = tokens.issue("bob", "Bob", Role.PLAYER, 3600)
    third, _ = tokens.issue("carol", "Carol", Role.PLAYER, 3600)
    tokens.decode(second)
    tokens.decode(third)  # the cache holds two: first goes
    tokens.decode(first)
    assert verified == [first, forged, second, third, first]


def test_expired_token_is_refused() -> None:
    """A token past its exp (beyond the leeway) is token_expired."""
    assert refused(token({"sub": "u1", "exp": int(NOW) - 60})).code == "token_expired"


def test_token_before_nbf_is_refused() -> None:
    """A token whose nbf is ahead of the codec's clock is token_not_yet_valid, then valid at nbf."""
    clock = FakeClock()
    tok = token({"sub": "u1", "nbf": int(NOW) + 600})
    assert refused(tok, clock).code == "token_not_yet_valid"
    clock.now = NOW + 600
    assert codec(clock).decode(tok).user_id == "u1"


# --- refusals ------------------------------------------------------------------------------

def alg_none() -> str:
    return hand_token({"alg": "none", "typ": "JWT"}, {"sub": "u1", "exp": FAR_EXP, "role": "admin"},
                      secret=None)


REFUSALS: list[tuple[str, Callable[[], str], str]] = [
    ("expired", lambda: token({"sub": "u1", "exp": int(NOW) - 3600}), "token_expired"),
    ("wrong_secret", lambda: token({"sub": "u1"}, secret=OTHER_SECRET), "token_signature_invalid"),
    ("tampered_claims", lambda: hand_token({"alg": "HS256", "typ": "JWT"}, {"sub": "u1", "exp": FAR_EXP},
                                           OTHER_SECRET), "token_signature_invalid"),
    ("alg_none", alg_none, "token_algorithm_not_allowed"),
    ("hs512", lambda: token({"sub": "u1"}, algorithm="HS512"), "token_algorithm_not_allowed"),
    ("hs384", lambda: token({"sub": "u1"}, algorithm="HS384"), "token_algorithm_not_allowed"),
    ("missing_exp", lambda: jwt.encode({"sub": "u1"}, SECRET, algorithm="HS256"), "token_claims_missing"),
    ("missing_sub_and_user_id", lambda: token({"username": "ada"}), "token_claims_missing"),
    ("empty_sub", lambda: token({"sub": ""}), "token_claims_missing"),
    ("unknown_role", lambda: token({"sub": "u1", "role": "superuser"}), "token_role_invalid"),
    ("garbage", lambda: "this is not a token", "token_malformed"),
    ("three_garbage_segments", lambda: "abc.def.ghi", "token_malformed"),
    ("header_not_json", lambda: f"{b64url(b'{oops')}.{b64url(b'{}')}.sig", "token_malformed"),
    ("kid_not_a_string", lambda: hand_token({"alg": "HS256", "kid": 7}, {"sub": "u1", "exp": FAR_EXP}),
     "token_malformed"),
    ("unsupported_crit", lambda: hand_token({"alg": "HS256", "crit": ["x"], "x": 1},
                                            {"sub": "u1", "exp": FAR_EXP}), "token_malformed"),
]


@pytest.mark.parametrize(("make", "code"), [(make, code) for _, make, code in REFUSALS],
                         ids=[name for name, _, _ in REFUSALS])
def test_refusal_codes(make: Callable[[], str], code: str) -> None:
    """Each unusable token is refused with its own stable AuthError code."""
    assert refused(make()).code == code


def test_empty_string_is_malformed() -> None:
    """An empty token is token_malformed."""
    assert refused("").code == "token_malformed"


@pytest.mark.parametrize("make", [make for _, make, _ in REFUSALS], ids=[name for name, _, _ in REFUSALS])
def test_refusal_message_never_echoes_the_token(make: Callable[[], str]) -> None:
    """Neither the message nor str() of an AuthError contains the token or any of its parts."""
    tok = make()
    error = refused(tok)
    for text in (error.message, str(error)):
        assert tok not in text
        for part in tok.split("."):
            if len(part) >= 8:
                assert part not in text


# --- the secret ----------------------------------------------------------------------------

@pytest.mark.parametrize("secret", ["", "short", "x" * 31])
def test_short_secret_is_refused(secret: str) -> None:
    """A secret under 32 characters is a ValueError."""
    with pytest.raises(ValueError):
        TokenCodec(secret)


def test_secret_of_32_characters_is_accepted() -> None:
    """32 characters is enough."""
    tokens = TokenCodec("x" * 32, clock=FakeClock())
    tok, _ = tokens.issue("u1", "U", Role.SPECTATOR, 60)
    assert jwt.get_unverified_header(tok)["alg"] == "HS256"


# --- event links end with their tournament --------------------------------------------------

@pytest.mark.gen_test
async def test_an_event_link_ends_12_hours_after_its_tournament() -> None:
    """A player's link works while its tournament runs and for AFTER_END_S after it ends (the
    results), then is refused with token_expired although its own exp is days away; a
    correction that reopens the tournament makes it work again; a cancel ends it the same way."""
    clock = FakeClock()
    store = MemoryStore()
    links = LinkService(store, TokenCodec(SECRET, clock=clock), clock)
    await store.insert_tournament(Tournament(id="t1", name="LAN", game="", format="single_elimination",
                                             state=TournamentState.LIVE, created_by="org", created_at=NOW))
    await store.insert_participant(Participant(id="p1", tournament_id="t1", name="P1", seed=1, created_at=NOW))
    (link,) = await links.mint_players("t1", Principal("org", "Org", Role.ORGANIZER), subjects=["p1"])
    assert link.expires_at == NOW + LINK_TTL_S
    user = TokenCodec(SECRET, clock=clock).decode(link.token)
    assert user.tournament_id == "t1"

    async def ends(state: TournamentState, at: float | None) -> None:
        tournament = await store.get_tournament("t1")
        await store.save_tournament(dataclasses.replace(tournament, state=state, ended_at=at,
                                                        version=tournament.version + 1))
        clock.now += CHECK_CACHE_S  # past the links' memory of the tournament

    await links.check(user)
    ended = clock.now
    await ends(TournamentState.COMPLETED, ended)
    clock.now = ended + AFTER_END_S - 1
    await links.check(user)  # the results are still there to look at
    clock.now = ended + AFTER_END_S + 1
    with pytest.raises(AuthError) as info:
        await links.check(user)
    assert (info.value.code, info.value.message) == ("token_expired", "this link ended with its tournament")
    assert link.expires_at > clock.now  # the token itself had days left
    assert TokenCodec(SECRET, clock=clock).decode(link.token) == user

    await ends(TournamentState.LIVE, None)  # a correction reopened it
    await links.check(user)
    ended = clock.now
    await ends(TournamentState.CANCELLED, ended)
    clock.now = ended + AFTER_END_S + 1
    with pytest.raises(AuthError) as info:
        await links.check(user)
    assert info.value.code == "token_expired"
