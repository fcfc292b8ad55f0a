"""Routes for event links: one per player for the whole tournament (with a short code to
type), screen links, renewing and revoking them."""

from __future__ import annotations

import segno
from tornado.ioloop import IOLoop

from handlers.base import ID, BaseHandler, Reply
from realtime.errors import ApiError
from realtime.limits import retry_after_ms
from tournament import fields
from tournament.links import LINK_TTL_S

MIN_LINK_TTL_S = 600  # the ttl_s a mint may ask for (the OpenAPI document reads these)
MIN_SCREEN_TTL_S = 60
MAX_LINK_TTL_S = LINK_TTL_S * 5


def _qr_svg(data: str) -> str:
    """An inline SVG of the QR code of `data` (a printed sheet holds one per player: made
    here at once, rather than one /qr.svg request each, which its rate limit would slow)."""
    return str(segno.make(data, error="l", micro=False).svg_inline(scale=3, border=2, dark="#000", light="#fff"))


def _origin(handler: BaseHandler) -> str:
    """The address the caller reached this server by: the organizer on the LAN address mints
    links the phones can open (the configured host may be 0.0.0.0, or localhost)."""
    return f"{handler.request.protocol}://{handler.request.host}"


def _join_url(handler: BaseHandler, tournament_id: str, code: str | None) -> str | None:
    """The short address a printed card's QR code holds: the join page with the code, which
    scans far better off paper than a token does (and dies with the code on a revoke)."""
    return None if code is None else f"{_origin(handler)}/join/{tournament_id}?code={code}"


def link_url(handler: BaseHandler, tournament_id: str, token: str) -> str:
    """A player's page for the whole event, with their token: what links and registrations answer."""
    return f"{_origin(handler)}/me/{tournament_id}?token={token}"


class PlayerLinksHandler(BaseHandler):
    async def post(self, tournament_id: str) -> None:
        """Mint every participant's link (their short codes are kept from one mint to the next),
        and with `members: true` every team member's too; with `subjects`, only those players'
        (the desk's links of one match). Not kept per Idempotency-Key: the answer holds tokens,
        which the store does not keep."""
        user, body = self.count_write(), self.json_body()
        ttl_s = fields.integer(body, "ttl_s", minimum=MIN_LINK_TTL_S, maximum=MAX_LINK_TTL_S) or LINK_TTL_S
        qr = fields.flag(body, "qr")
        subjects = None if body.get("subjects") is None else fields.id_list(body, "subjects")
        links = await self.services.links.mint_players(tournament_id, user, ttl_s, members=fields.flag(body, "members"),
                                                       subjects=subjects)
        # A member's participant is their team: what they play as.
        minted = [{**link.to_json(), "participant_id": link.acts_for or link.subject,
                   "url": link_url(self, tournament_id, link.token),
                   "join_url": _join_url(self, tournament_id, link.code)} for link in links]
        if qr:  # about 10 ms a code, pure Python: off the IOLoop, or a sheet of 128 stalls it a second
            svgs = await IOLoop.current().run_in_executor(
                None, lambda: [_qr_svg(m["join_url"] or m["url"]) for m in minted])
            minted = [{**m, "qr_svg": svg} for m, svg in zip(minted, svgs)]
        self.reply(201, {"tournament_id": tournament_id, "links": minted})


class RevokeLinksHandler(BaseHandler):
    async def post(self, tournament_id: str) -> None:
        """Revoke one subject's links (`subject`: a participant id or a screen's id), or all."""
        async def revoke() -> Reply:
            body = self.json_body()
            subject = fields.identifier(body, "subject", required=False)
            await self.services.links.revoke(tournament_id, self.user(), subject)
            closed = self.services.sockets.close_revoked(tournament_id)
            return 200, {"tournament_id": tournament_id, "revoked": subject or "all", "sockets_closed": closed}

        await self.once_per_key(self.count_write(), revoke)


class ScreenLinkHandler(BaseHandler):
    async def post(self, tournament_id: str) -> None:
        """A link for a screen (projector, queue board, overlay): a spectator of this tournament."""
        user = self.count_write()
        body = self.json_body()
        name = fields.text(body, "name", default="Screen", max_len=60)
        ttl_s = fields.integer(body, "ttl_s", minimum=MIN_SCREEN_TTL_S, maximum=MAX_LINK_TTL_S) or LINK_TTL_S
        link = await self.services.links.mint_screen(tournament_id, user, name, ttl_s)
        self.reply(201, {**link.to_json(), "tournament_id": tournament_id})


class JoinHandler(BaseHandler):
    async def post(self, tournament_id: str) -> None:
        """A player types their code: their link. No token needed; an unknown code is a 404."""
        # Counted per address as a write (no token yet): guessing codes is slow as well as hopeless.
        wait = self.services.limits.writes_by_user.check(f"join:{self.client_ip}")
        if wait:
            raise ApiError(429, "rate_limit_exceeded", "too many codes tried; slow down",
                           retry_after_ms=retry_after_ms(wait))
        body = self.json_body()
        code = fields.text(body, "code", max_len=40)
        link = await self.services.links.join(tournament_id, code)
        self.reply(200, {**link.to_json(), "participant_id": link.subject, "tournament_id": tournament_id,
                         "url": link_url(self, tournament_id, link.token)})


class RenewHandler(BaseHandler):
    async def post(self) -> None:
        """A fresh token for an event link that is still good (pages renew before expiry)."""
        link = await self.services.links.renew(self.count_write())
        self.reply(200, {**link.to_json()})


routes = [
    (rf"/api/tournaments/({ID})/links/?", PlayerLinksHandler),
    (rf"/api/tournaments/({ID})/links/revoke/?", RevokeLinksHandler),
    (rf"/api/tournaments/({ID})/screens/?", ScreenLinkHandler),
    (rf"/api/tournaments/({ID})/join/?", JoinHandler),
    (r"/api/tokens/renew/?", RenewHandler),
]
