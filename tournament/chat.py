"""ChatService: a match's chat between its two sides and the organizers, with moderation.

Who writes: the match's participants and organizers; spectators read, and write only when the
tournament allows it (`spectator_chat`). A muted user writes nothing more in that match. Every
message, deletion and mute is an event of the match's log, committed through the MatchWriter
like any move (numbered, replayed on recovery) but keeping the match's version, so a chat
never makes a client's `If-Match` stale. The match keeps its latest `kept` messages for the
welcome.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from tournament import fields, rules
from tournament.errors import ForbiddenError, InvalidValueError
from tournament.events import CHAT_MESSAGE, CHAT_MESSAGE_DELETED, CHAT_USER_MUTED
from tournament.models import Chat, ChatMessage, Match, new_id
from tournament.roles import Principal, Role
from tournament.rules import Outcome
from tournament.store import NotFoundError, Store
from tournament.tournaments import require_organizer
from tournament.writer import MatchWriter

MAX_CHARS = 400
KEPT = 50


class ChatService:
    def __init__(self, store: Store, writer: MatchWriter, clock: Callable[[], float] = time.time,
                 max_chars: int = MAX_CHARS, kept: int = KEPT) -> None:
        self._store = store
        self._writer = writer
        self._clock = clock
        self.max_chars = max_chars
        self._kept = kept

    async def post(self, match_id: str, user: Principal, text: object) -> ChatMessage:
        """Write a message. Raises NotFoundError, ForbiddenError (chat_forbidden, chat_muted),
        InvalidValueError (chat_empty, chat_too_long, or text that is not text)."""
        body = self._text(text)
        match = await self._store.get_match(match_id)
        if not user.acts_in(match.tournament_id):
            raise ForbiddenError("this link writes only in its own tournament's chats", code="chat_forbidden")
        if user.role is Role.SPECTATOR and not (await self._store.get_tournament(match.tournament_id)).spectator_chat:
            raise ForbiddenError("spectators read this chat; only players and organizers write",
                                 code="chat_forbidden")
        message = ChatMessage(id=new_id("c"), user_id=user.user_id, name=user.name, role=user.role.label,
                              text=body, at=self._clock())

        def decide(match: Match) -> Outcome:
            if user.role is not Role.SPECTATOR and not (user.is_organizer or rules.Actor.PARTICIPANT
                                                        in rules.actors_of(match, user)):
                raise ForbiddenError("only this match's players and the organizers write in its chat",
                                     code="chat_forbidden")
            if user.key in match.chat.muted:
                raise ForbiddenError("you are muted in this match's chat", code="chat_muted")
            messages = (*match.chat.messages, message)[-self._kept:]
            return Outcome(dataclasses.replace(match, chat=dataclasses.replace(match.chat, messages=messages)),
                           [(CHAT_MESSAGE, {"message": message.to_json()})])

        await self._writer.write(match_id, decide, keep_version=True)
        return message

    async def may_write(self, match: Match, user: Principal) -> bool:
        """Whether `user` may write in `match`'s chat now (not muted, allowed)."""
        if user.key in match.chat.muted or not user.acts_in(match.tournament_id):
            return False
        if user.role is Role.SPECTATOR:
            try:
                return (await self._store.get_tournament(match.tournament_id)).spectator_chat
            except NotFoundError:
                return False
        return user.is_organizer or rules.Actor.PARTICIPANT in rules.actors_of(match, user)

    def _text(self, text: object) -> str:
        if not isinstance(text, str):
            raise fields.bad_request("text must be a string", "text")
        body = fields.check_text(text.strip(), "text", multiline=True)
        if not body:
            raise InvalidValueError("a chat message needs some text", code="chat_empty", field="text")
        if len(body) > self.max_chars:
            raise InvalidValueError(f"a chat message is at most {self.max_chars} characters",
                                    code="chat_too_long", field="text", limit=self.max_chars)
        return body

    async def delete(self, match_id: str, user: Principal, message_id: str) -> None:
        """An organizer deletes a message (it leaves the welcome; the event says so).
        Raises ForbiddenError, NotFoundError (no such message among the kept ones)."""
        require_organizer(user, "delete a chat message")

        def decide(match: Match) -> Outcome:
            kept = tuple(m for m in match.chat.messages if m.id != message_id)
            if len(kept) == len(match.chat.messages):
                raise NotFoundError("chat message", message_id)
            return Outcome(dataclasses.replace(match, chat=dataclasses.replace(match.chat, messages=kept)),
                           [(CHAT_MESSAGE_DELETED, {"message_id": message_id, "by": user.user_id})])

        await self._writer.write(match_id, decide, keep_version=True)

    async def mute(self, match_id: str, user: Principal, who: str, role: str, muted: bool = True) -> None:
        """An organizer mutes (or unmutes) a user in this match's chat: `who` with `role`
        (the pair a message names). Raises ForbiddenError, NotFoundError, InvalidValueError."""
        require_organizer(user, "mute in a chat")
        try:
            key = Principal(who, who, Role.parse(role)).key
        except ValueError:
            raise InvalidValueError(f"role must be a role, not {role!r}", field="role") from None

        def decide(match: Match) -> Outcome:
            if (key in match.chat.muted) == muted:
                return Outcome(match, [])  # already so: nothing to write
            others = tuple(k for k in match.chat.muted if k != key)
            chat = Chat(messages=match.chat.messages, muted=(*others, key) if muted else others)
            return Outcome(dataclasses.replace(match, chat=chat),
                           [(CHAT_USER_MUTED, {"user_id": who, "role": role, "muted": muted, "by": user.user_id})])

        await self._writer.write(match_id, decide, keep_version=True)
