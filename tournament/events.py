"""Event names and the publisher interface through which services announce every change."""

from __future__ import annotations

from typing import Protocol

from tournament.models import Event

MATCH_STARTED = "match_started"
SCORE_UPDATED = "score_updated"
MATCH_STATE_CHANGED = "match_state_changed"
MATCH_COMPLETED = "match_completed"
GAME_STARTED = "game_started"  # a series' next game is being played
GAME_COMPLETED = "game_completed"
SERIES_UPDATED = "series_updated"  # its score, games or format changed
VETO_UPDATED = "veto_updated"
DISPUTE_CREATED = "dispute_created"
DISPUTE_RESOLVED = "dispute_resolved"
CHECKIN_UPDATED = "checkin_updated"
BRACKET_GENERATED = "bracket_generated"
BRACKET_UPDATED = "bracket_updated"
TOURNAMENT_COMPLETED = "tournament_completed"
RESULT_CORRECTED = "result_corrected"
PARTICIPANT_ADDED = "participant_added"
PARTICIPANT_UPDATED = "participant_updated"  # renamed, re-seeded, approved, promoted, checked in or dropped
REGISTRATION_UPDATED = "registration_updated"  # the self-registration and check-in settings changed
PARTICIPANT_REMOVED = "participant_removed"
PARTICIPANTS_RESEEDED = "participants_reseeded"  # every seed set at once, from an order
PARTICIPANT_DISQUALIFIED = "participant_disqualified"  # once started: every match left to them is forfeited
TOURNAMENT_CREATED = "tournament_created"
TOURNAMENT_UPDATED = "tournament_updated"  # renamed, its game changed, archived or brought back
TOURNAMENT_DELETED = "tournament_deleted"  # the room's last event: the tournament and its records are gone
DRAW_STARTED = "draw_started"
DRAW_REVEALED = "draw_revealed"
DRAW_UNDONE = "draw_undone"
DRAW_ABORTED = "draw_aborted"
CHAT_MESSAGE = "chat_message"
CHAT_MESSAGE_DELETED = "chat_message_deleted"
CHAT_USER_MUTED = "chat_user_muted"
# Events of a match's log that stay in its room: the tournament room does not carry its chats.
MATCH_ROOM_ONLY = frozenset({CHAT_MESSAGE, CHAT_MESSAGE_DELETED, CHAT_USER_MUTED})
TOURNAMENT_STATE_CHANGED = "tournament_state_changed"
# Stations and the call queue
MATCH_CALLED = "match_called"  # a match's log: called to a station
MATCH_UNCALLED = "match_uncalled"
CALL_EXPIRED = "call_expired"  # the check-in time of a call ran out with a player missing
STATION_UPDATED = "station_updated"  # the tournament's: a station added or changed
STATION_REMOVED = "station_removed"
CALLING_UPDATED = "calling_updated"  # how the tournament calls matches (auto-assign, timer)
QUEUE_UPDATED = "queue_updated"  # the stations, the queue with its ETAs, the called matches


class Publisher(Protocol):
    """Receives every persisted event, in sequence order per stream. Must not block or raise."""

    def publish(self, event: Event) -> None: ...


class NullPublisher:
    """Drops events: the publisher until a live hub is attached."""

    def publish(self, event: Event) -> None:
        pass


class Fanout:
    """Hands each event to several publishers, in order."""

    def __init__(self, *publishers: Publisher) -> None:
        self.publishers = publishers

    def publish(self, event: Event) -> None:
        for publisher in self.publishers:
            publisher.publish(event)


class RecordingPublisher:
    """Keeps every event in memory, for tests and tools."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish(self, event: Event) -> None:
        self.events.append(event)
