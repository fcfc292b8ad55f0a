"""POST /api/tokens: organizers mint tokens for players and spectators (admins also organizers).

A player's token is an event link of one tournament (minted by the LinkService: scoped to it,
ending with it, revocable); a token for another role is not scoped.
"""

from __future__ import annotations

from handlers.base import BaseHandler, Reply
from handlers.links import link_url
from tournament import fields
from tournament.roles import ROLE_NAMES, Role, check_mint

MAX_TTL_S = 7 * 24 * 3600


class TokensHandler(BaseHandler):
    async def post(self) -> None:
        # Counted as a write, but not idempotent on purpose: minting twice is harmless,
        # keeping tokens in the store is not.
        self.reply(*await self._mint())

    async def _mint(self) -> Reply:
        user, body = self.count_write(), self.json_body()
        role_name = fields.text(body, "role", default="spectator")
        try:
            role = Role.parse(role_name)
        except ValueError:
            raise fields.invalid("role", f"must be one of {', '.join(ROLE_NAMES)}") from None
        check_mint(user, role)
        user_id = fields.identifier(body, "user_id") or ""
        name = fields.text(body, "name", default=user_id, max_len=100)  # a player's is their participant's
        ttl_s = fields.integer(body, "ttl_s", minimum=60, maximum=MAX_TTL_S) or self.services.config.token_ttl_s
        tournament_id = fields.identifier(body, "tournament_id", required=False)
        if role is Role.PLAYER:
            # An unscoped player token would act as that id in every tournament, and no revoke
            # would reach it: a player is always one tournament's.
            if tournament_id is None:
                raise fields.invalid("tournament_id", "a player token is an event link of one tournament: give "
                                     "its tournament_id, or mint the players' links with POST "
                                     "/api/tournaments/{id}/links")
            (link,) = await self.services.links.mint_players(tournament_id, user, ttl_s, subjects=[user_id])
            return 201, {"token": link.token, "user_id": link.subject, "username": link.name, "role": role.label,
                         "expires_at": link.expires_at, "tournament_id": tournament_id, "code": link.code,
                         "acts_for": link.acts_for, "url": link_url(self, tournament_id, link.token)}
        if tournament_id is not None:
            raise fields.invalid("tournament_id", "only player tokens belong to one tournament here: a screen's "
                                 "link is POST /api/tournaments/{id}/screens")
        token, exp = self.services.tokens.issue(user_id, name, role, ttl_s)
        return 201, {"token": token, "user_id": user_id, "username": name, "role": role.label,
                     "expires_at": exp}


routes = [(r"/api/tokens/?", TokensHandler)]
