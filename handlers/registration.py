"""Routes for self-registration and check-in: the settings and the registration code, the public
register route (a code, no token; rate-limited per address), approving and rejecting pending
participants, and checking in."""

from __future__ import annotations

from typing import Any

from handlers.base import ID, BaseHandler, Reply
from handlers.links import link_url
from realtime.errors import ApiError
from realtime.limits import retry_after_ms
from tournament import fields, participant_rows
from tournament.participants import UNCHANGED
from tournament.registration import MAX_CAP

SETTINGS = ("open", "cap", "waitlist", "approval", "check_in")


def _choice(check_in: dict[str, Any], field: str) -> str | None:
    """`check_in.state` or `check_in.at_start`: a string or absent (its values: the service's)."""
    value = check_in.get(field)
    if value is not None and not isinstance(value, str):
        raise fields.bad_request(f"check_in.{field} must be a string", f"check_in.{field}")
    return value


class RegistrationHandler(BaseHandler):
    async def get(self, tournament_id: str) -> None:
        """The settings, the count registered, the pending, waitlisted and dropped (the code: organizers only)."""
        view = await self.services.registration.view(tournament_id, self.user())
        self.reply(200, view)

    async def patch(self, tournament_id: str) -> None:
        """Any of open, cap (null: no cap), waitlist, approval, check_in {state, at_start}; absent: unchanged."""
        async def change() -> Reply:
            body = self.json_body()
            if not any(k in body and (body[k] is not None or k == "cap") for k in SETTINGS):
                raise fields.invalid("open", f"send at least one of {', '.join(SETTINGS)}")
            check_in = body.get("check_in") or {}
            if not isinstance(check_in, dict):
                raise fields.bad_request("check_in must be an object", "check_in")
            view = await self.services.registration.configure(
                tournament_id, self.user(), open=None if body.get("open") is None else fields.flag(body, "open"),
                cap=fields.integer(body, "cap", minimum=1, maximum=MAX_CAP) if "cap" in body else UNCHANGED,
                waitlist_on=None if body.get("waitlist") is None else fields.flag(body, "waitlist"),
                approval=None if body.get("approval") is None else fields.flag(body, "approval"),
                check_in_state=_choice(check_in, "state"), at_start=_choice(check_in, "at_start"))
            return 200, view

        await self.once_per_key(self.count_write(), change)


class RegistrationCodeHandler(BaseHandler):
    async def post(self, tournament_id: str) -> None:
        """A new registration code (the old one stops working)."""
        async def renew() -> Reply:
            return 200, await self.services.registration.new_code(tournament_id, self.user())

        await self.once_per_key(self.count_write(), renew)


class RegisterHandler(BaseHandler):
    async def post(self, tournament_id: str) -> None:
        """A player registers themselves: `code`, `name`, optional `id`. No token needed."""
        # Counted per address as a write (no token yet), like join: codes are slow to guess.
        wait = self.services.limits.writes_by_user.check(f"register:{self.client_ip}")
        if wait:
            raise ApiError(429, "rate_limit_exceeded", "too many registrations tried; slow down",
                           retry_after_ms=retry_after_ms(wait))
        body = self.json_body()
        code = fields.text(body, "code", max_len=40)
        name = participant_rows.name(body)
        participant_id = fields.identifier(body, "id", required=False)
        done = await self.services.registration.register(tournament_id, code, name, participant_id)
        link = done.link
        self.reply(201, {**link.to_json(), "participant_id": link.subject, "tournament_id": tournament_id,
                         "url": link_url(self, tournament_id, link.token), "status": str(done.participant.status),
                         "place": done.place, "participant": done.participant.to_json()})


class ApproveHandler(BaseHandler):
    async def post(self, tournament_id: str, participant_id: str) -> None:
        async def approve() -> Reply:
            approved = await self.services.registration.approve(tournament_id, participant_id, self.user())
            return 200, approved.to_json()

        await self.once_per_key(self.count_write(), approve)


class RejectHandler(BaseHandler):
    async def post(self, tournament_id: str, participant_id: str) -> None:
        async def reject() -> Reply:
            rejected = await self.services.registration.reject(tournament_id, participant_id, self.user())
            return 200, {"removed": rejected.to_json()}

        await self.once_per_key(self.count_write(), reject)


class CheckInHandler(BaseHandler):
    async def post(self, tournament_id: str) -> None:
        """A player checks in with their own token; an organizer checks in `participant_id`."""
        async def check_in() -> Reply:
            participant_id = fields.identifier(self.json_body(), "participant_id", required=False)
            checked = await self.services.registration.check_in(tournament_id, self.user(), participant_id)
            return 200, checked.to_json()

        await self.once_per_key(self.count_write(), check_in)


routes = [
    (rf"/api/tournaments/({ID})/registration/?", RegistrationHandler),
    (rf"/api/tournaments/({ID})/registration/code/?", RegistrationCodeHandler),
    (rf"/api/tournaments/({ID})/register/?", RegisterHandler),
    (rf"/api/tournaments/({ID})/participants/({ID})/approve/?", ApproveHandler),
    (rf"/api/tournaments/({ID})/participants/({ID})/reject/?", RejectHandler),
    (rf"/api/tournaments/({ID})/check-in/?", CheckInHandler),
]
