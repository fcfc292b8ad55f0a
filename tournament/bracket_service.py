"""BracketService: start a tournament's bracket, advance players as matches end, decide it.

Advancement is a reconciliation, not a list of steps: `settle` looks at every decided match
and makes sure its winner (and in double elimination its loser) sits in the next match,
ends the matches that will not be played (byes), opens the next Swiss round, and completes
the tournament when nothing is left. Each placement is idempotent (seating someone already
seated changes nothing), so settling again after a crash, or twice, is always safe: a winner
is never in two places, and never lost.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tournament import brackets, round_robin, rules, series, stages, swiss, tiebreaks, veto
from tournament.errors import InvalidTransitionError, InvalidValueError
from tournament.events import (BRACKET_GENERATED, BRACKET_UPDATED, PARTICIPANT_DISQUALIFIED, TOURNAMENT_COMPLETED,
                               Publisher)
from tournament.locks import KeyedLocks
from tournament.models import (FINAL_STATES, BracketSlot, Event, Match, MatchState, Tournament,
                               TournamentState, tournament_stream)
from tournament.placements import decided, group_tables, placements, results_of
from tournament.registration import cut_off_at_start
from tournament.roles import SYSTEM, Principal
from tournament.rules import Outcome
from tournament.store import NotFoundError, Store
from tournament.tournaments import require_organizer
from tournament.writer import MatchWriter

log = logging.getLogger(__name__)

ELIMINATION = ("single_elimination", "double_elimination")


@dataclasses.dataclass(frozen=True)
class StartOptions:
    seeding: str = "given"  # given | random | registration
    rng_seed: int | None = None  # recorded, so a random seeding can be replayed
    third_place: bool = False
    grand_final_reset: bool = True
    rounds: int | None = None  # Swiss only; default ceil(log2(n))
    tiebreaks: tuple[str, ...] | None = None  # round robin and Swiss; names of tiebreaks.CRITERIA
    points: tuple[float, float, float] | None = None  # round robin and Swiss: (win, draw, loss)
    series: series.SeriesRules = series.SeriesRules()  # how many games each match is
    veto: veto.VetoConfig | None = None  # the map pool and veto every match may run
    groups: stages.GroupStage | None = None  # groups, then playoffs: the group stage (default: 2 groups, top 2)


def loser_of(match: Match) -> str | None:
    return match.opponent_of(match.winner_id) if match.winner_id else None


class BracketService:
    """The bracket's own moves (seat, walkover, correct, reopen, abandon) are system moves:
    no user to authorize, written straight through the MatchWriter."""

    def __init__(self, store: Store, writer: MatchWriter, publisher: Publisher,
                 clock: Callable[[], float] = time.time, locks: KeyedLocks | None = None,
                 event_matches_max: int = 512) -> None:
        self._store = store
        self._event_matches_max = event_matches_max  # a bigger bracket is not sent in an event
        self._writer = writer
        self._publisher = publisher
        self._clock = clock
        self._locks = locks or KeyedLocks()  # per tournament, shared with registration

    # -- start and reset -----------------------------------------------------------------

    async def start(self, tournament_id: str, user: Principal, options: StartOptions) -> Tournament:
        """Seed the participants, create every match the format knows of, go live.

        Raises ForbiddenError, NotFoundError, InvalidTransitionError (not in draft or
        registration), InvalidValueError (too few participants, bad seeding or rounds).
        """
        require_organizer(user, "start a tournament")
        await cut_off_at_start(self._store, self._locks, self._publisher, self._clock, tournament_id, options.seeding)
        async with self._locks.hold(tournament_id):
            tournament = await self._store.get_tournament(tournament_id)
            if tournament.state not in (TournamentState.DRAFT, TournamentState.REGISTRATION):
                raise InvalidTransitionError(f"the tournament is {tournament.state}", state=tournament.state)
            participants = await self._store.list_participants(tournament_id)
            most = round_robin.MAX_PARTICIPANTS if tournament.format == "round_robin" else brackets.MAX_PARTICIPANTS
            if not brackets.MIN_PARTICIPANTS <= len(participants) <= most:
                raise InvalidValueError(f"a {tournament.format.replace('_', ' ')} needs "
                                        f"{brackets.MIN_PARTICIPANTS} to {most} participants, not {len(participants)}")
            group_stage = None
            if tournament.format == stages.FORMAT:
                group_stage = options.groups or stages.GroupStage()
                group_stage.check(len(participants))
                group_stage = group_stage.resolved(len(participants))
            elif options.groups is not None:
                raise InvalidValueError("groups apply to a groups-then-playoffs tournament only", field="groups")
            rng_seed = options.rng_seed
            if options.seeding == "random" and rng_seed is None:
                rng_seed = random.SystemRandom().randrange(2**31)
            if options.seeding == "draw":
                order, rng_seed = self._drawn_order(tournament, [p.id for p in participants])
            else:
                try:
                    order = brackets.seed_order([p.id for p in participants], {p.id: p.seed for p in participants},
                                                options.seeding, rng_seed)
                except ValueError as e:
                    raise InvalidValueError(str(e), field="seeding") from e
            settings = self._settings(tournament, options, rng_seed, len(order))
            if group_stage is not None:
                settings |= {"groups": group_stage.to_json(), "stage": "groups",
                             "group_members": stages.distribute(order, group_stage.groups)}
            now = self._clock()
            await self._store.delete_matches(tournament_id)  # leftovers of a start that crashed
            planned = self._playoff_plan(group_stage, tournament) if group_stage else []
            swiss_rounds = settings.get("rounds") or (group_stage.rounds if group_stage else None)
            created = self._with_formats(await self._create(tournament, order, settings, now), options.series,
                                         swiss_rounds, planned)
            self._check_vetoes(settings, created, planned, options.series)
            for match in created:
                await self._store.insert_match(match)
            live = dataclasses.replace(tournament, state=TournamentState.LIVE, settings=settings,
                                       seed_order=tuple(order), started_at=now, version=tournament.version + 1)
            await self._store.save_tournament(live)
        await self._announce(live, BRACKET_GENERATED, await self._bracket_for_event(tournament_id))
        await self.settle(tournament_id)
        return await self._store.get_tournament(tournament_id)

    @staticmethod
    def _drawn_order(tournament: Tournament, participant_ids: list[str]) -> tuple[list[str], int]:
        """The order of the tournament's finished live draw, and its seed. Raises
        InvalidValueError when there is none, it is not finished, or the participants changed."""
        draw = tournament.draw
        if draw is None or not draw.complete:
            raise InvalidValueError("seeding by the draw needs a finished draw: reveal every place first",
                                    field="seeding")
        if set(draw.order) != set(participant_ids):
            raise InvalidValueError("the participants changed since the draw: draw again", field="seeding")
        return list(draw.order), draw.rng_seed

    def _settings(self, tournament: Tournament, options: StartOptions, rng_seed: int | None,
                  n: int) -> dict[str, Any]:
        settings: dict[str, Any] = {"seeding": options.seeding, "rng_seed": rng_seed}
        if tournament.format == "single_elimination":
            settings["third_place"] = options.third_place
        elif tournament.format == "double_elimination":
            settings["grand_final_reset"] = options.grand_final_reset
        elif tournament.format == "swiss":
            rounds = options.rounds or swiss.recommended_rounds(n)
            if not 1 <= rounds <= n - 1:
                raise InvalidValueError(f"a Swiss event of {n} plays 1 to {n - 1} rounds", field="rounds")
            settings["rounds"] = rounds
        if tournament.format in ("round_robin", "swiss", stages.FORMAT):  # recorded in full, defaults included
            swiss_groups = tournament.format == stages.FORMAT and options.groups and options.groups.format == "swiss"
            criteria, points = tiebreaks.rules_from_settings("swiss" if swiss_groups else tournament.format, {})
            try:
                criteria = criteria if options.tiebreaks is None else tiebreaks.check_criteria(options.tiebreaks)
            except ValueError as e:
                raise InvalidValueError(str(e), field="tiebreaks") from e
            try:
                points = points if options.points is None else tiebreaks.check_points(options.points)
            except ValueError as e:
                raise InvalidValueError(str(e), field="points") from e
            settings["tiebreaks"], settings["points"] = list(criteria), list(points)
        elif options.tiebreaks is not None or options.points is not None:
            raise InvalidValueError("tiebreaks and points apply to round robin, Swiss and groups only",
                                    field="tiebreaks" if options.tiebreaks is not None else "points")
        settings["series"] = options.series.to_json()
        if options.veto is not None:
            settings["veto"] = options.veto.to_json()
        return settings

    @staticmethod
    def _check_vetoes(settings: Mapping[str, Any], created: Sequence[Match], planned: Sequence[Match],
                      rules_: series.SeriesRules) -> None:
        """Every recorded veto must fit (pool, sequence) every format of the matches it is the
        default of: the group stage's own veto its group matches', the tournament's the rest
        (`stages.veto_settings` decides, as at a match's start-veto). Those formats are the
        created matches', the playoff's (`planned`) and later Swiss rounds' (a later round's
        format can only be its round's: `_with_formats` refuses keys of matches not yet made).
        Raises InvalidValueError on the veto's start option (`veto`, `groups.veto`)."""
        in_use = {(m.slot.group, m.format.best_of) for m in created if m.slot}
        in_use |= {(m.slot.group, rules_.format_for(m.slot.key).best_of) for m in planned if m.slot}
        stage = settings.get("groups")
        groups: list[str | None] = list(settings["group_members"]) if stage else [None]
        swiss_rounds = (stage["rounds"] if stage["format"] == "swiss" else None) if stage else settings.get("rounds")
        for round_no in range(2, (swiss_rounds or 0) + 1):
            for group in groups:
                key = stages.group_key(group, f"S{round_no}-1") if group else f"S{round_no}-1"
                in_use.add((group, rules_.format_for(key).best_of))
        for group, best_of in sorted(in_use, key=lambda used: (used[1], used[0] or "")):
            found = stages.veto_settings(settings, group)
            if found is not None:
                name, config = found
                veto.sequence_for(veto.config_from(config, name), best_of, name)

    @staticmethod
    def _with_formats(matches: list[Match], rules_: series.SeriesRules, swiss_rounds: int | None,
                      planned: Sequence[Match] = ()) -> list[Match]:
        """The matches with the format of their round. Raises InvalidValueError for a round
        key the bracket does not have (`planned`: the matches of a later stage, known by
        their keys already), or a format that can end level in elimination."""
        for match in planned:  # a later stage's format is checked now: the organizer is still at the desk
            BracketService._formatted(match, rules_)
        known = {k for m in [*matches, *planned] if m.slot for k in series.candidate_keys(m.slot.key)}
        known |= {f"S{r}" for r in range(1, (swiss_rounds or 0) + 1)}
        unknown = sorted(set(rules_.rounds) - known)
        if unknown:
            rounds = sorted({series.round_key(k) for k in known} | {series.bracket_key(k) for k in known})
            raise InvalidValueError(f"series.rounds: this bracket has no {', '.join(unknown)}; its rounds are "
                                    f"{', '.join(rounds[:40])}", field="series")
        return [BracketService._formatted(m, rules_) for m in matches]

    @staticmethod
    def _formatted(match: Match, rules_: series.SeriesRules) -> Match:
        assert match.slot is not None
        fmt = rules_.format_for(match.slot.key)
        rules.check_format_fits(match, fmt, "series")
        return dataclasses.replace(match, format=fmt)

    @staticmethod
    def _playoff_plan(stage: stages.GroupStage, tournament: Tournament) -> list[Match]:
        """The playoff's matches as they will be, players unknown: their keys and formats are
        checked at the start."""
        bracket = BracketService._playoff_bracket(stage, stage.groups * stage.advance)
        empty = bracket.empty_slots()
        return [BracketService._bracket_match(tournament, [], spec, empty, 0.0) for spec in bracket.matches]

    @staticmethod
    def _playoff_bracket(stage: stages.GroupStage, n: int) -> brackets.Bracket:
        return (brackets.single_elimination(n, stage.third_place) if stage.playoff == "single_elimination"
                else brackets.double_elimination(n, stage.grand_final_reset))

    async def _create(self, tournament: Tournament, order: list[str], settings: dict[str, Any],
                now: float) -> list[Match]:
        fmt = tournament.format
        if fmt == stages.FORMAT and settings["groups"]["format"] == "swiss":  # every group's first Swiss round
            first: list[Match] = []
            for g, (group, members) in enumerate(settings["group_members"].items()):
                first += await self._swiss_round(tournament, members, [], 1, now + g * 1e-5, group=group,
                                                 settings=settings)
            return first
        if fmt == stages.FORMAT:  # the group stage: a round robin in every group
            return [self._paired(tournament, "round_robin", stages.group_key(group, f"R{r}-{i}"), r, i, pair,
                                 now + r * 1e-3 + g * 1e-5, group=group)
                    for g, (group, members) in enumerate(settings["group_members"].items())
                    for r, pairs in enumerate(round_robin.round_robin_rounds(members), start=1)
                    for i, pair in enumerate(pairs, start=1)]
        if fmt in ELIMINATION:
            bracket = (brackets.single_elimination(len(order), settings["third_place"])
                       if fmt == "single_elimination"
                       else brackets.double_elimination(len(order), settings["grand_final_reset"]))
            empty = bracket.empty_slots()  # once: it walks the whole bracket
            return [self._bracket_match(tournament, order, spec, empty, now + i * 1e-6)
                    for i, spec in enumerate(bracket.matches)]
        if fmt == "round_robin":
            return [self._paired(tournament, "round_robin", f"R{r}-{i}", r, i, pair, now + r * 1e-3)
                    for r, pairs in enumerate(round_robin.round_robin_rounds(order), start=1)
                    for i, pair in enumerate(pairs, start=1)]
        return await self._swiss_round(tournament, order, [], 1, now)

    @staticmethod
    def _bracket_match(tournament: Tournament, order: list[str], spec: brackets.BracketMatch,
                       empty: frozenset[tuple[str, int]], now: float) -> Match:

        def seeded(feed: brackets.Feed) -> str | None:
            return order[feed.seed - 1] if feed.kind == "seed" and feed.seed and feed.seed <= len(order) else None

        def label(feed: brackets.Feed) -> str:
            return {"seed": f"seed {feed.seed}", "winner": f"winner of {feed.match}",
                    "loser": f"loser of {feed.match}", "bye": "bye"}[feed.kind]

        slot = BracketSlot(key=spec.key, bracket=spec.bracket, position=spec.position,
                           feeds=(label(spec.feeds[0]), label(spec.feeds[1])), winner_to=spec.winner_to,
                           loser_to=spec.loser_to, optional=spec.optional,
                           byes=((spec.key, 0) in empty, (spec.key, 1) in empty))
        return Match(id=f"{tournament.id}-{spec.key}", tournament_id=tournament.id,
                     participant_ids=(seeded(spec.feeds[0]), seeded(spec.feeds[1])),
                     state=MatchState.SCHEDULED, created_at=now, updated_at=now, round=spec.round,
                     label=spec.key, slot=slot)

    @staticmethod
    def _paired(tournament: Tournament, kind: str, key: str, round_no: int, position: int,
                pair: tuple[str, str | None], now: float, group: str | None = None) -> Match:
        a, b = pair
        slot = BracketSlot(key=key, bracket=kind, position=position, feeds=(a, b or "bye"),
                           byes=(False, b is None), group=group)
        return Match(id=f"{tournament.id}-{key}", tournament_id=tournament.id, participant_ids=(a, b),
                     state=MatchState.SCHEDULED, created_at=now + position * 1e-6, updated_at=now,
                     round=round_no, label=key, slot=slot)

    async def _swiss_round(self, tournament: Tournament, order: list[str], done: list[Match], round_no: int,
                           now: float, *, group: str | None = None,
                           settings: dict[str, Any] | None = None) -> list[Match]:
        """The matches of Swiss round `round_no` (of one group of a group stage, with `group`).
        The matching runs in a thread: it takes seconds for a thousand players, which the
        IOLoop must not wait for. Raises ValueError."""
        settings = tournament.settings if settings is None else settings
        results, byes = results_of(done)
        criteria, points = tiebreaks.rules_from_settings("swiss", settings)
        withdrawn = {d["participant_id"] for d in tournament.disqualified}
        pairing = await asyncio.to_thread(swiss.swiss_pairings, order, results, round_no, byes,
                                          criteria=criteria, points=points, withdrawn=withdrawn)
        pairs: list[tuple[str, str | None]] = list(pairing.pairs)
        if pairing.bye:
            pairs.append((pairing.bye, None))
        formats = series.rules_from(settings.get("series"))
        return [self._formatted(self._paired(tournament, "swiss", stages.group_key(group, f"S{round_no}-{i}") if group
                                             else f"S{round_no}-{i}", round_no, i, pair, now, group=group), formats)
                for i, pair in enumerate(pairs, start=1)]

    async def reset(self, tournament_id: str, user: Principal) -> Tournament:
        """Throw the bracket away before any match started; back to registration.

        Raises ForbiddenError, NotFoundError, InvalidTransitionError.
        """
        require_organizer(user, "reset a bracket")
        async with self._locks.hold(tournament_id):
            tournament = await self._store.get_tournament(tournament_id)
            if tournament.state != TournamentState.LIVE:
                raise InvalidTransitionError(f"the tournament is {tournament.state}", state=tournament.state)
            played = [m.label for m in await self._store.list_matches(tournament_id)
                      if m.slot and not m.slot.walkover and m.state is not MatchState.SCHEDULED]
            if played:
                raise InvalidTransitionError(f"matches have begun: {', '.join(played[:5])}",
                                             code="bracket_in_play", state=tournament.state)
            await self._store.delete_matches(tournament_id)
            reset = dataclasses.replace(tournament, state=TournamentState.REGISTRATION, settings={},
                                        seed_order=(), started_at=None, version=tournament.version + 1)
            await self._store.save_tournament(reset)
        await self._announce(reset, BRACKET_UPDATED, {"reset": True, "bracket": None})
        return reset

    async def cancel(self, tournament_id: str, user: Principal) -> Tournament:
        """Cancel a tournament that has not completed, and every match of it still open.

        Raises ForbiddenError, NotFoundError, InvalidTransitionError.
        """
        require_organizer(user, "cancel a tournament")
        async with self._locks.hold(tournament_id):
            tournament = await self._store.get_tournament(tournament_id)
            if tournament.state in (TournamentState.COMPLETED, TournamentState.CANCELLED):
                raise InvalidTransitionError(f"the tournament is {tournament.state}", state=tournament.state)
            cancelled = dataclasses.replace(tournament, state=TournamentState.CANCELLED, ended_at=self._clock(),
                                            version=tournament.version + 1)
            await self._store.save_tournament(cancelled)
            for match in await self._store.list_matches(tournament_id):
                if match.state not in FINAL_STATES:
                    await self._abandon(match.id, user, "tournament cancelled")
        await self._announce(cancelled, BRACKET_UPDATED, {"cancelled": True,
                                                          **await self._bracket_for_event(tournament_id)})
        return cancelled

    async def record_disqualification(self, tournament_id: str, user: Principal, participant_id: str,
                                      reason: str) -> Tournament:
        """Write down that `participant_id` is disqualified from a live tournament (the commit
        point: from here on settle() forfeits every match of theirs with both players known and
        Swiss rounds pair without them). Raises ForbiddenError, NotFoundError,
        InvalidTransitionError (not live: before the start, remove them; already disqualified)."""
        require_organizer(user, "disqualify a participant")
        async with self._locks.hold(tournament_id):
            tournament = await self._store.get_tournament(tournament_id)
            if tournament.state != TournamentState.LIVE:
                hint = (": remove the participant instead" if tournament.state in (TournamentState.DRAFT,
                                                                                   TournamentState.REGISTRATION)
                        else "")
                raise InvalidTransitionError(f"only a live tournament disqualifies; it is {tournament.state}{hint}",
                                             state=tournament.state)
            if participant_id not in tournament.seed_order:
                raise NotFoundError("participant", participant_id)
            if tournament.is_disqualified(participant_id):
                raise InvalidTransitionError(f"{participant_id} is already disqualified",
                                             code="already_disqualified", state=tournament.state)
            entry = {"participant_id": participant_id, "reason": reason, "by": user.user_id, "at": self._clock()}
            recorded = dataclasses.replace(tournament, disqualified=(*tournament.disqualified, entry),
                                           version=tournament.version + 1)
            await self._store.save_tournament(recorded)
        await self._announce(recorded, PARTICIPANT_DISQUALIFIED, {"participant_id": participant_id, "reason": reason})
        return recorded

    # -- advancement -----------------------------------------------------------------------

    async def match_ended(self, match: Match) -> None:
        """A bracket match reached a final state: settle its tournament.

        Never raises: the match's result is already stored, and the next settle (another
        ended match, or the server's start) finishes whatever failed here.
        """
        try:
            await self.settle(match.tournament_id)
        except Exception:
            log.exception("settling tournament %s after %s failed", match.tournament_id, match.id)

    async def settle(self, tournament_id: str) -> None:
        """Bring the bracket up to date with every decided match (idempotent).

        One read of the bracket, then passes in bracket order, each applying every seat and
        walkover it finds (a walkover's winner is seated in the same pass), until a pass
        changes nothing. A pass that changes nothing is the proof of a settled bracket, so
        the passes are bounded by the changes there can be, never by a constant.
        """
        async with self._locks.hold(tournament_id):
            tournament = await self._store.get_tournament(tournament_id)
            if tournament.state != TournamentState.LIVE:
                return
            by_key = {m.slot.key: m for m in await self._store.list_matches(tournament_id) if m.slot}
            while True:
                for _ in range(3 * len(by_key) + 1):  # each changing pass seats or ends a match
                    if not await self._settle_pass(tournament, by_key):
                        break
                else:
                    log.error("tournament %s did not settle in %d passes", tournament_id, 3 * len(by_key) + 1)
                    return
                if tournament.format == "swiss":
                    tournament, opened = await self._next_swiss_round(tournament, list(by_key.values()))
                elif tournament.format == stages.FORMAT:
                    tournament, opened = await self._next_group_rounds(tournament, list(by_key.values()))
                    if not opened and tournament.settings["groups"]["auto_playoff"]:
                        tournament, opened = await self._open_playoff(tournament, list(by_key.values()))
                else:
                    opened = []
                if not opened:
                    break
                by_key.update((m.slot.key, m) for m in opened if m.slot)
            matches = list(by_key.values())
            waiting = tournament.format == stages.FORMAT and tournament.settings.get("stage") != "playoff"
            if matches and not waiting and all(decided(m) or m.state in FINAL_STATES for m in matches):
                await self._complete(tournament, matches)

    async def _settle_pass(self, tournament: Tournament, by_key: dict[str, Match]) -> bool:
        """Seat every decided match's players, end every match due a walkover and forfeit every
        match a disqualified player has reached, in bracket order, keeping `by_key` current;
        whether anything changed."""
        changed = False
        for key in list(by_key):
            match = by_key[key]
            if match.state is MatchState.SCHEDULED and self._walkover_due(match):
                match = by_key[key] = await self._walkover(match.id, "bye")
                changed = True
            out = self._disqualified_in(tournament, match)
            if out is not None:
                match = by_key[key] = await self._forfeit(match.id, out)
                changed = True
            if decided(match):
                changed = await self._advance(match, by_key) or changed
        return changed

    @staticmethod
    def _disqualified_in(tournament: Tournament, match: Match) -> str | None:
        """The disqualified player who forfeits `match` (both seated, not yet over), if any; of
        two disqualified players the first slot's forfeits (the other goes out at their next)."""
        if match.state in FINAL_STATES or None in match.participant_ids:
            return None
        return next((p for p in match.participant_ids if tournament.is_disqualified(p)), None)

    @staticmethod
    def _walkover_due(match: Match) -> bool:
        assert match.slot is not None
        known = [p is not None or bye for p, bye in zip(match.participant_ids, match.slot.byes)]
        return all(known) and any(match.slot.byes)

    async def _advance(self, match: Match, by_key: dict[str, Match]) -> bool:
        """Seat the winner and loser of a decided match where they go next."""
        assert match.slot is not None
        slot = match.slot
        if slot.key == "GF1" and "GF2" in by_key:
            gf2 = by_key["GF2"]
            if match.winner_id == match.participant_ids[0]:  # the winners-bracket champion won
                if gf2.state is MatchState.SCHEDULED and not gf2.players:
                    by_key["GF2"] = await self._walkover(gf2.id, "not needed")
                    return True
                return False
        changed = False
        for target, who in ((slot.winner_to, match.winner_id), (slot.loser_to, loser_of(match))):
            if target is None:
                continue
            key, index = target
            before = by_key[key]
            assert before.slot is not None
            if (who is None and not before.slot.byes[index]) or (who is not None and before.participant_ids[index] != who):
                after = await self._seat(before.id, index, who)
                changed = changed or after.version != before.version
                by_key[key] = after
        return changed

    async def _next_swiss_round(self, tournament: Tournament,
                                matches: list[Match]) -> tuple[Tournament, list[Match]]:
        """Pair and store the next Swiss round once every match is decided: (the tournament,
        the matches opened). No round opens after the last, or when nobody can be paired
        without a rematch (then the event ends there, recorded in its settings)."""
        played = max((m.round or 0) for m in matches)
        if played >= tournament.settings["rounds"] or not all(decided(m) for m in matches):
            return tournament, []
        now = self._clock()
        try:
            next_round = await self._swiss_round(tournament, list(tournament.seed_order), matches, played + 1, now)
        except ValueError as e:  # nobody left to pair without a rematch: the event ends here
            log.warning("tournament %s ends after round %d: %s", tournament.id, played, e)
            settings = {**tournament.settings, "rounds_played": played}
            tournament = dataclasses.replace(tournament, settings=settings, version=tournament.version + 1)
            await self._store.save_tournament(tournament)
            return tournament, []
        for match in next_round:
            await self._store.insert_match(match)
        await self._announce(tournament, BRACKET_UPDATED, {"round": played + 1,
                                                           **await self._bracket_for_event(tournament.id)})
        return tournament, next_round

    async def start_playoff(self, tournament_id: str, user: Principal) -> Tournament:
        """Open the playoff of a groups-then-playoffs tournament whose every group match is
        decided (what auto_playoff does by itself). Raises ForbiddenError, NotFoundError,
        InvalidTransitionError (not such a tournament, not live, groups still playing, open already)."""
        require_organizer(user, "start the playoff")
        async with self._locks.hold(tournament_id):
            tournament = await self._store.get_tournament(tournament_id)
            if tournament.format != stages.FORMAT:
                raise InvalidTransitionError("only a groups-then-playoffs tournament has a playoff to start",
                                             state=tournament.state)
            if tournament.state != TournamentState.LIVE or tournament.settings.get("stage") != "groups":
                raise InvalidTransitionError("the playoff has started already" if tournament.state
                                             == TournamentState.LIVE else f"the tournament is {tournament.state}",
                                             state=tournament.state)
            matches = await self._store.list_matches(tournament_id)
            playing = [m.label for m in matches if m.slot and m.slot.group and not decided(m)]
            if playing:
                raise InvalidTransitionError(f"{len(playing)} group matches are not decided: {', '.join(playing[:5])}",
                                             code="groups_in_play", state=tournament.state)
            if not self._groups_finished(tournament, matches):
                raise InvalidTransitionError("the groups' Swiss rounds are not all played yet",
                                             code="groups_in_play", state=tournament.state)
            await self._open_playoff(tournament, [m for m in matches if m.slot])
        await self.settle(tournament_id)
        return await self._store.get_tournament(tournament_id)

    @staticmethod
    def _groups_finished(tournament: Tournament, matches: list[Match]) -> bool:
        """Every group match decided and, in Swiss groups, every group's rounds played (or its
        pairing run out: `groups_ended`)."""
        group_matches = [m for m in matches if m.slot and m.slot.group]
        if not all(decided(m) for m in group_matches):
            return False
        groups = tournament.settings["groups"]
        if groups["format"] != "swiss":
            return True
        ended = tournament.settings.get("groups_ended", {})
        return all(g in ended or max((m.round or 0 for m in group_matches if m.slot and m.slot.group == g),
                                     default=0) >= groups["rounds"]
                   for g in tournament.settings["group_members"])

    async def _next_group_rounds(self, tournament: Tournament,
                                 matches: list[Match]) -> tuple[Tournament, list[Match]]:
        """Swiss groups: pair the next round of every group whose last round is decided (a
        group goes at its own pace): (the tournament, the matches opened). A group that cannot
        pair without a rematch ends there (`settings.groups_ended`)."""
        groups = tournament.settings["groups"]
        if groups["format"] != "swiss" or tournament.settings.get("stage") != "groups":
            return tournament, []
        opened: list[Match] = []
        ended = dict(tournament.settings.get("groups_ended", {}))
        for g, members in tournament.settings["group_members"].items():
            own = [m for m in matches if m.slot and m.slot.group == g]
            played = max((m.round or 0) for m in own)
            if g in ended or played >= groups["rounds"] or not all(decided(m) for m in own):
                continue
            try:
                pairs = await self._swiss_round(tournament, list(members), own, played + 1, self._clock(), group=g)
            except ValueError as e:
                log.warning("tournament %s: group %s ends after round %d: %s", tournament.id, g, played, e)
                ended[g] = played
                continue
            for match in pairs:
                await self._store.insert_match(match)
            opened += pairs
            await self._announce(tournament, BRACKET_UPDATED, {"round": played + 1, "group": g,
                                                               **await self._bracket_for_event(tournament.id)})
        if ended != tournament.settings.get("groups_ended", {}):
            tournament = dataclasses.replace(tournament, settings={**tournament.settings, "groups_ended": ended},
                                             version=tournament.version + 1)
            await self._store.save_tournament(tournament)
        return tournament, opened

    async def _open_playoff(self, tournament: Tournament, matches: list[Match]) -> tuple[Tournament, list[Match]]:
        """Seed and store the playoff from the groups' tables once every group match is
        decided: (the tournament, the matches opened). The matches go in first, then the
        tournament's stage (the commit point): a crash between them leaves matches the next
        settle finds, and it only records the stage."""
        if tournament.settings.get("stage") != "groups" or not self._groups_finished(tournament, matches):
            return tournament, []
        stage = stages.GroupStage.from_json(tournament.settings["groups"])
        tables = group_tables(tournament, matches)
        order = stages.playoff_order(tables, stage.advance, stage.playoff_seeding)
        existing = {m.slot.key: m for m in matches if m.slot and not m.slot.group}
        opened: list[Match] = []
        if not existing:
            bracket = self._playoff_bracket(stage, len(order))
            empty = bracket.empty_slots()
            now = self._clock()
            formats = series.rules_from(tournament.settings.get("series"))
            opened = [self._formatted(self._bracket_match(tournament, order, spec, empty, now + i * 1e-6), formats)
                      for i, spec in enumerate(bracket.matches)]
            for match in opened:
                await self._store.insert_match(match)
        settings = {**tournament.settings, "stage": "playoff", "playoff_order": order,
                    "group_tables": {g: [s.participant_id for s in table] for g, table in tables.items()}}
        tournament = dataclasses.replace(tournament, settings=settings, version=tournament.version + 1)
        await self._store.save_tournament(tournament)
        await self._announce(tournament, BRACKET_UPDATED, {"stage": "playoff",
                                                           **await self._bracket_for_event(tournament.id)})
        return tournament, opened

    async def _complete(self, tournament: Tournament, matches: list[Match]) -> None:
        places = placements(tournament, matches)
        done = dataclasses.replace(tournament, state=TournamentState.COMPLETED, placements=tuple(places),
                                   ended_at=self._clock(), version=tournament.version + 1)
        await self._store.save_tournament(done)
        await self._announce(done, TOURNAMENT_COMPLETED, {"placements": places, "rules": rules_applied(done)})

    # -- system moves, straight through the writer ------------------------------------------

    async def _write(self, match_id: str, decide: Callable[[Match], Outcome]) -> Match:
        return (await self._writer.write(match_id, decide)).match

    async def _seat(self, match_id: str, slot: int, participant_id: str | None) -> Match:
        """Put a participant (None: a bye) in a slot, unless it is there already."""
        return await self._write(match_id, lambda m: rules.seat(m, slot, participant_id, self._clock()))

    async def _walkover(self, match_id: str, reason: str) -> Match:
        """End a match that will not be played: its one player (if any) wins it."""
        return await self._write(match_id, lambda m: rules.walkover(m, reason, self._clock()))

    async def _reopen(self, match_id: str, clear: list[int], user: Principal, now: float) -> Match:
        """Send a later match back to scheduled, emptying the slots in `clear`."""
        return await self._write(match_id, lambda m: rules.reopen(m, clear, user, now))

    async def _forfeit(self, match_id: str, participant_id: str) -> Match:
        """A disqualified player forfeits a match they reached (unless it ended meanwhile)."""
        def decide(match: Match) -> Outcome:
            if match.state in FINAL_STATES:
                return Outcome(match, [])
            return rules.forfeit(match, participant_id, SYSTEM, match.open_dispute, self._clock())

        return await self._write(match_id, decide)

    async def _abandon(self, match_id: str, user: Principal, reason: str) -> Match:
        """Cancel a match that has not ended (its tournament was cancelled)."""
        def decide(match: Match) -> Outcome:
            if match.state in FINAL_STATES:
                return Outcome(match, [])
            return rules.cancel(match, user, reason, match.open_dispute, self._clock())

        return await self._write(match_id, decide)

    # -- corrections -----------------------------------------------------------------------

    async def correct(self, match_id: str, user: Principal, scores: Mapping[str, int] | None, *,
                      undo: bool = False, force: bool = False, dry_run: bool = False,
                      game: int | None = None, games: Sequence[Mapping[str, int]] | None = None) -> dict[str, Any]:
        """Replace a decided result (in a series: one game's scores, `game` and `scores`, or
        every game's, `games`). A new winner resets the later matches that depended on it:
        applied freely when none of them has begun, otherwise only with `force`. The old
        result stays in the match's history; `undo` puts the previous one back (a series a
        correction ended while it was played goes back to being played: no winner, so what
        its winner reached is reset, as for a new winner).

        Raises ForbiddenError, NotFoundError, InvalidTransitionError (code
        correction_needs_force, with the matches it would reset), InvalidValueError.
        """
        require_organizer(user, "correct a result")

        taken: set[str] = set()  # stations other open matches are called to

        def move(m: Match, now: float) -> Outcome:
            outcome = (rules.undo_correction(m, user, now) if undo
                       else rules.correct(m, scores, user, now, game=game, games=games))
            back = outcome.match
            if back.call is not None and back.state not in FINAL_STATES and back.call.station_id in taken:
                # a series back to being played keeps its station only if no other match was called to it meanwhile
                return dataclasses.replace(outcome, match=dataclasses.replace(back, call=None))
            return outcome

        tournament_id = (await self._store.get_match(match_id)).tournament_id
        async with self._locks.hold(tournament_id):
            match = await self._store.get_match(match_id)
            taken.update(m.call.station_id for m in await self._store.list_matches(tournament_id)
                         if m.id != match_id and m.call is not None and m.state not in FINAL_STATES)
            corrected = move(match, self._clock()).match  # validates, writes nothing
            plan = await self._reset_plan(match) if corrected.winner_id != match.winner_id else []
            begun = [m for m, _ in plan if m.state is not MatchState.SCHEDULED and not (m.slot and m.slot.walkover)]
            report: dict[str, Any] = {
                "match_id": match.id, "winner_id": corrected.winner_id, "state": corrected.state.value,
                "requires_force": bool(begun),
                "resets": [{"match_id": m.id, "key": m.label, "state": m.state.value} for m, _ in plan]}
            if dry_run:
                return {**report, "applied": False}
            if begun and not force:
                raise InvalidTransitionError(
                    f"the correction would reset matches that have begun ({', '.join(m.label for m in begun)}); "
                    "send force: true to apply it", code="correction_needs_force", state=match.state.value,
                    resets=report["resets"])
            now = self._clock()
            after = await self._write(match.id, lambda m: move(m, now))
            for target, clear in plan:
                await self._reopen(target.id, clear, user, now)
            await self._reopen_tournament(match.tournament_id)
        await self.settle(match.tournament_id)
        return {**report, "applied": True, "match": (await self._store.get_match(after.id)).to_json()}

    async def _reset_plan(self, match: Match) -> list[tuple[Match, list[int]]]:
        """The later matches a new winner of `match` changes, and which of their slots empty."""
        by_key = {m.slot.key: m for m in await self._store.list_matches(match.tournament_id) if m.slot}
        plan: dict[str, list[int]] = {}
        queue = [match]
        while queue:
            source = queue.pop(0)
            if source.slot is None:
                continue
            for target in (source.slot.winner_to, source.slot.loser_to):
                if target is None or target[0] not in by_key:
                    continue
                key, index = target
                later = by_key[key]
                if later.participant_ids[index] is None and later.state is MatchState.SCHEDULED:
                    continue  # nothing reached it yet
                if index not in plan.setdefault(key, []):
                    plan[key].append(index)
                    queue.append(later)
        return [(by_key[key], slots) for key, slots in plan.items()]

    async def _reopen_tournament(self, tournament_id: str) -> None:
        tournament = await self._store.get_tournament(tournament_id)
        if tournament.state == TournamentState.COMPLETED:
            await self._store.save_tournament(dataclasses.replace(
                tournament, state=TournamentState.LIVE, placements=(), ended_at=None,
                version=tournament.version + 1))

    # -- views -----------------------------------------------------------------------------

    async def view(self, tournament_id: str) -> dict[str, Any]:
        """The bracket: rounds of matches per bracket, with who feeds where. Raises NotFoundError."""
        tournament = await self._store.get_tournament(tournament_id)
        matches = [m for m in await self._store.list_matches(tournament_id) if m.slot]
        blocks: dict[tuple[str | None, str, int], list[dict[str, Any]]] = {}
        for m in matches:
            assert m.slot is not None
            blocks.setdefault((m.slot.group, m.slot.bracket, m.round or 0), []).append(m.to_json())
        return {"tournament_id": tournament.id, "format": tournament.format, "state": tournament.state,
                "settings": tournament.settings, "seed_order": list(tournament.seed_order),
                "rounds": [{"bracket": b, "round": r, "matches": ms, **({"group": g} if g else {})}
                           for (g, b, r), ms in blocks.items()],
                "placements": [dict(p) for p in tournament.placements]}

    async def standings(self, tournament_id: str) -> dict[str, Any]:
        """The table so far (round robin and Swiss), or the placements. Raises NotFoundError."""
        tournament = await self._store.get_tournament(tournament_id)
        matches = [m for m in await self._store.list_matches(tournament_id) if m.slot]
        results, byes = results_of(matches)
        order = list(tournament.seed_order)
        criteria, points = tiebreaks.rules_from_settings(tournament.format, tournament.settings)
        rows: list[dict[str, Any]] = []
        if order and tournament.format == "round_robin":
            rows = [dataclasses.asdict(s) for s in round_robin.standings(order, results, criteria=criteria,
                                                                        points=points)]
        elif order and tournament.format == "swiss":
            rows = [dataclasses.asdict(s) for s in swiss.swiss_standings(order, results, byes, criteria=criteria,
                                                                        points=points)]
        extra: dict[str, Any] = {}
        if order and tournament.format == stages.FORMAT:
            tables = group_tables(tournament, matches)
            advance = tournament.settings["groups"]["advance"]
            extra["groups"] = [{"group": g, "advance": advance, "standings": [dataclasses.asdict(s) for s in table]}
                               for g, table in tables.items()]
        return {"tournament_id": tournament.id, "format": tournament.format, "state": tournament.state,
                "tiebreaks": list(criteria), "points": list(points),
                "standings": rows, **extra, "placements": [dict(p) for p in tournament.placements]}

    async def _bracket_for_event(self, tournament_id: str) -> dict[str, Any]:
        """The bracket an event carries: the whole view, or past `event_matches_max` matches
        `bracket: null` and `bracket_matches` (clients read it over REST), so no event grows
        with the bracket past every socket's output bound."""
        view = await self.view(tournament_id)
        count = sum(len(r["matches"]) for r in view["rounds"])
        if count > self._event_matches_max:
            return {"bracket": None, "bracket_matches": count}
        return {"bracket": view, "bracket_matches": count}

    async def _announce(self, tournament: Tournament, kind: str, data: dict[str, Any]) -> None:
        self._publisher.publish(Event(stream=tournament_stream(tournament.id), seq=0, type=kind,
                                      data={"tournament_id": tournament.id, "tournament": tournament.to_json(),
                                            **data}, ts=self._clock()))


def rules_applied(tournament: Tournament) -> list[str]:
    """What decided the placements, in words."""
    return {
        "single_elimination": ["final winner first, final loser second",
                               "third and fourth: the third-place match" if tournament.settings.get("third_place")
                               else "third: both semifinal losers",
                               "then by the round they went out in, tied (5th-8th, 9th-16th, ...)"],
        "double_elimination": ["grand final winner first, grand final loser second",
                               "third: the losers-bracket final loser",
                               "then by the losers-bracket round they went out in, tied (5th-6th, 7th-8th, ...)"],
        stages.FORMAT: ["the playoff's places first, as in its elimination format",
                        "then those out in the groups, by their group rank, tied across groups"],
    }.get(tournament.format) or [tiebreaks.WORDS[c] for c in
                                  tiebreaks.rules_from_settings(tournament.format, tournament.settings)[0]]
