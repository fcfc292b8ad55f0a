"""JWT tokens: HS256 only, `exp` required, each refusal with its own code."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt

from tournament.roles import Principal, Role

ALGORITHM = "HS256"
# Tokens whose signature was verified, kept with their claims: a game server posting 20 scores a
# second, or a page reconnecting, sends the same token again and again, and each check was a
# base64 decode, a JSON parse and an HMAC (PyJWT: 4% of the server's core on the LAN day).
# Times are checked again at every use; past this many, the oldest is forgotten.
VERIFIED_MAX = 4096


class AuthError(Exception):
    """A missing or unusable token. `code` is stable; the message never echoes the token."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class TokenCodec:
    """Issues and checks the tokens of one server (one secret)."""

    def __init__(self, secret: str, clock: Callable[[], float] = time.time, leeway_s: float = 5.0) -> None:
        if len(secret) < 32:
            raise ValueError("the JWT secret must be at least 32 characters")
        self._secret = secret
        self._clock = clock
        self._leeway_s = leeway_s
        self._verified: dict[str, dict[str, Any]] = {}  # token -> its claims, oldest first

    def issue(self, user_id: str, name: str, role: Role, ttl_s: int, *, tournament_id: str | None = None,
              link: tuple[int, int] | None = None, acts_for: str | None = None) -> tuple[str, int]:
        """A signed token and its expiry (epoch seconds); with `tournament_id` an event link,
        scoped to that tournament (claim `tid`) at link generation `link` (claim `lg`); with
        `acts_for` too, a team member's link, acting for that team (claim `af`)."""
        now = int(self._clock())
        exp = now + ttl_s
        claims: dict[str, Any] = {"sub": user_id, "username": name, "role": role.label, "iat": now, "exp": exp}
        if tournament_id is not None:
            claims["tid"] = tournament_id
            claims["lg"] = list(link or (1, 0))
            claims["lt"] = ttl_s  # its lifetime, which renewing keeps
            if acts_for is not None:
                claims["af"] = acts_for
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM), exp

    def renew(self, user: Principal, ttl_s: int) -> tuple[str, int]:
        """A fresh token with the same claims as `user`'s (a screen renewing its link)."""
        return self.issue(user.user_id, user.name, user.role, ttl_s, tournament_id=user.tournament_id,
                          link=user.link, acts_for=user.acts_for)

    def decode(self, token: str) -> Principal:
        """The principal a token names. Raises AuthError with one of: token_malformed,
        token_algorithm_not_allowed, token_signature_invalid, token_expired,
        token_not_yet_valid, token_claims_missing, token_role_invalid."""
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify(token)
            if len(self._verified) >= VERIFIED_MAX:
                del self._verified[next(iter(self._verified))]
            self._verified[token] = claims
        self._check_times(claims)
        return self._principal(claims)

    def _verify(self, token: str) -> dict[str, Any]:
        """The claims of a token signed with this server's secret. Raises AuthError."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise AuthError("token_malformed", "the token is not a JWT") from None
        if header.get("alg") != ALGORITHM:
            raise AuthError("token_algorithm_not_allowed",
                            f"tokens must be signed with {ALGORITHM}, not {header.get('alg')!r}")
        try:
            # Times are checked below against the injected clock, not PyJWT's own.
            claims: dict[str, Any] = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM],
                options={"require": ["exp"], "verify_aud": False, "verify_exp": False,
                         "verify_nbf": False, "verify_iat": False},
            )
        except jwt.MissingRequiredClaimError as e:
            raise AuthError("token_claims_missing", f"the token has no {e.claim!r} claim") from None
        except jwt.InvalidSignatureError:
            raise AuthError("token_signature_invalid", "the token's signature does not match") from None
        except jwt.InvalidTokenError:
            raise AuthError("token_malformed", "the token cannot be read") from None
        return claims

    def _check_times(self, claims: dict[str, Any]) -> None:
        now = self._clock()
        exp, nbf = claims["exp"], claims.get("nbf")
        if not _is_number(exp) or (nbf is not None and not _is_number(nbf)):
            raise AuthError("token_malformed", "the token's exp and nbf must be numbers")
        if exp <= now - self._leeway_s:
            raise AuthError("token_expired", "the token has expired")
        if nbf is not None and nbf > now + self._leeway_s:
            raise AuthError("token_not_yet_valid", "the token is not valid yet")

    def _principal(self, claims: dict[str, Any]) -> Principal:
        user_id = claims.get("sub", claims.get("user_id"))
        if not isinstance(user_id, (str, int)) or isinstance(user_id, bool) or user_id == "":
            raise AuthError("token_claims_missing", "the token has no 'sub' (or 'user_id') claim")
        name = claims.get("username", claims.get("name", str(user_id)))
        try:
            role = Role.parse(str(claims.get("role", "spectator")))
        except ValueError:
            raise AuthError("token_role_invalid", f"unknown role {claims.get('role')!r}") from None
        scope, link, team = claims.get("tid"), claims.get("lg"), claims.get("af")
        if scope is not None:
            if not isinstance(scope, str) or not scope or not (
                    isinstance(link, list) and len(link) == 2
                    and all(isinstance(g, int) and not isinstance(g, bool) for g in link)):
                raise AuthError("token_malformed", "the token's tid and lg claims are malformed")
            if team is not None and (not isinstance(team, str) or not team):
                raise AuthError("token_malformed", "the token's af claim is malformed")
            lifetime = claims.get("lt")
            return Principal(user_id=str(user_id), name=str(name), role=role, tournament_id=scope,
                             link=(link[0], link[1]), acts_for=team,
                             link_ttl_s=lifetime if isinstance(lifetime, int) and not isinstance(lifetime, bool)
                             and lifetime > 0 else None)
        return Principal(user_id=str(user_id), name=str(name), role=role)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
