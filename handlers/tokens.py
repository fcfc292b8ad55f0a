"""POST /api/tokens: organizers mint tokens for players and spectators (admins also organizers)."""

from __future__ import annotations

from handlers.base import BaseHandler, Reply
from tournament import fields
from tournament.roles import ROLE_NAMES, Role, check_mint

MAX_TTL_S = 7 * 24 * 3600


class TokensHandler(BaseHandler):
    async def post(self) -> None:
        # Counted as a write, but not idempotent on purpose: minting twice is harmless,
        # keeping tokens in the store is not.
        self.reply(*self._mint())

    def _mint(self) -> Reply:
        user, body = self.count_write(), self.json_body()
        role_name = fields.text(body, "role", default="spectator")
        try:
            role = Role.parse(role_name)
        except ValueError:
            raise fields.invalid("role", f"must be one of {', '.join(ROLE_NAMES)}") from None
        check_mint(user, role)
        user_id = fields.identifier(body, "user_id") or ""
        name = fields.text(body, "name", default=user_id, max_len=100)
        ttl_s = fields.integer(body, "ttl_s", minimum=60, maximum=MAX_TTL_S)
        token, exp = self.services.tokens.issue(user_id, name, role,
                                                ttl_s or self.services.config.token_ttl_s)
        return 201, {"token": token, "user_id": user_id, "username": name, "role": role.label,
                     "expires_at": exp}


routes = [(r"/api/tokens/?", TokensHandler)]
