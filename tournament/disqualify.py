"""Disqualifying a participant from a live tournament: every match left to them is forfeited.

The disqualification is written on the tournament first (the commit point). Then each open
match of theirs with both players known is forfeited through the MatchService, as an
organizer's forfeit is (its waiting live scores flushed first, its station freed, the bracket
settled). The matches they reach later, and any this step missed (a crash between the two),
are forfeited by BracketService.settle, which runs after every ended match and at start-up;
Swiss rounds are paired without them. Before the start a participant is removed instead.
"""

from __future__ import annotations

import logging

from tournament.bracket_service import BracketService
from tournament.errors import InvalidTransitionError
from tournament.matches import MatchService
from tournament.models import FINAL_STATES, Tournament
from tournament.roles import Principal
from tournament.store import Store

log = logging.getLogger(__name__)


class DisqualifyService:
    def __init__(self, store: Store, brackets: BracketService, matches: MatchService) -> None:
        self._store = store
        self._brackets = brackets
        self._matches = matches

    async def disqualify(self, tournament_id: str, user: Principal, participant_id: str,
                         reason: str = "") -> Tournament:
        """Raises ForbiddenError, NotFoundError, InvalidTransitionError (not live, or already
        disqualified), StorageError."""
        await self._brackets.record_disqualification(tournament_id, user, participant_id, reason)
        for match in await self._store.list_matches(tournament_id):
            if match.state in FINAL_STATES or participant_id not in match.participant_ids or None in match.participant_ids:
                continue
            try:
                await self._matches.forfeit(match.id, user, participant_id)
            except InvalidTransitionError:  # it ended meanwhile (or its forfeit by settle came first)
                log.info("%s: %s had ended before its disqualification forfeit", tournament_id, match.id)
        await self._brackets.settle(tournament_id)
        return await self._store.get_tournament(tournament_id)
