"""POST /api/tokens: organizers mint tokens for players and spectators (admins also organizers)."""

from __future__ import annotations

from handlers import schema
from handlers.base import BaseHandler, Reply
from handlers.errors import ApiError
from tournament.roles import ROLE_NAMES, Role

MAX_TTL_S = 7 * 24 * 3600


class TokensHandler(BaseHandler):
    async def post(self) -> None:
        # Not idempotent on purpose: minting twice is harmless, keeping tokens in the store is not.
        self.reply(*self._mint())

    def _mint(self) -> Reply:
        user, body = self.user(), self.json_body()
        if not user.is_organizer:
            raise ApiError(403, "insufficient_permissions", "only an organizer may mint tokens")
        role_name = schema.text(body, "role", default="spectator")
        try:
            role = Role.parse(role_name)
        except ValueError:
            raise ApiError(422, "invalid_value", f"role must be one of {', '.join(ROLE_NAMES)}",
                           field="role") from None
        if role >= user.role:
            raise ApiError(403, "insufficient_permissions",
                           f"a {user.role.label} may mint tokens only for lower roles")
        user_id = schema.identifier(body, "user_id") or ""
        name = schema.text(body, "name", default=user_id, max_len=100)
        ttl_s = schema.integer(body, "ttl_s", minimum=60, maximum=MAX_TTL_S)
        token, exp = self.services.tokens.issue(user_id, name, role,
                                                ttl_s or self.services.config.token_ttl_s)
        return 201, {"token": token, "user_id": user_id, "username": name, "role": role.label,
                     "expires_at": exp}


routes = [(r"/api/tokens/?", TokensHandler)]
