"""Elimination brackets as pure data: seeding, byes, and where every winner and loser goes next."""

from __future__ import annotations

import dataclasses
import functools
import random
from collections.abc import Mapping, Sequence
from typing import Literal

MIN_PARTICIPANTS = 2
MAX_PARTICIPANTS = 1024
SEED_METHODS = ("given", "random", "registration")

FeedKind = Literal["seed", "winner", "loser", "bye"]
BracketName = Literal["winners", "losers", "grand_final", "third_place"]


@dataclasses.dataclass(frozen=True)
class Feed:
    """Where the participant of one slot comes from."""

    kind: FeedKind
    seed: int | None = None  # 1-based seed number, for kind "seed"
    match: str | None = None  # key of the source match, for kinds "winner" and "loser"


BYE = Feed("bye")


@dataclasses.dataclass(frozen=True)
class BracketMatch:
    """One match of a bracket; `feeds` fill its slots 0 and 1, `*_to` say where its players go."""

    key: str  # "W2-3": winners bracket round 2 match 3; "L1-1", "GF1", "GF2", "3P"
    bracket: BracketName
    round: int  # 1-based within its bracket
    position: int  # 1-based within its round
    feeds: tuple[Feed, Feed]
    winner_to: tuple[str, int] | None = None  # (match key, slot), None for a final
    loser_to: tuple[str, int] | None = None  # None when the loser is out
    optional: bool = False  # GF2 only: played only if the losers-bracket finalist wins GF1


@dataclasses.dataclass(frozen=True)
class Bracket:
    """A whole elimination bracket; `matches` come in playing order, every feed before its use."""

    format: str  # "single_elimination" or "double_elimination"
    size: int  # participants, byes not counted
    matches: tuple[BracketMatch, ...]

    @functools.cached_property
    def _by_key(self) -> dict[str, BracketMatch]:
        return {m.key: m for m in self.matches}

    def match(self, key: str) -> BracketMatch:
        """The match with this key. Raises KeyError."""
        return self._by_key[key]

    def rounds(self, bracket: str) -> list[tuple[BracketMatch, ...]]:
        """The matches of one bracket grouped by round, rounds and positions in order.

        An absent bracket (no "losers" in single elimination) has no rounds.
        """
        count = max((m.round for m in self.matches if m.bracket == bracket), default=0)
        return [tuple(sorted((m for m in self.matches if m.bracket == bracket and m.round == r),
                             key=lambda m: m.position)) for r in range(1, count + 1)]

    def empty_slots(self) -> frozenset[tuple[str, int]]:
        """The (key, slot) pairs that stay empty whatever the results.

        A slot is empty when its feed is a bye, the winner of a match with both slots
        empty, or the loser of a match with an empty slot (nobody lost it).
        """
        empty: set[tuple[str, int]] = set()
        for m in self.matches:
            for slot, feed in enumerate(m.feeds):
                if feed.kind == "bye" or (
                        feed.kind == "winner" and {(feed.match, 0), (feed.match, 1)} <= empty) or (
                        feed.kind == "loser" and {(feed.match, 0), (feed.match, 1)} & empty):
                    empty.add((m.key, slot))
        return frozenset(empty)

    def walkovers(self) -> frozenset[str]:
        """Keys of the matches never played: the present participant (if any) goes on as winner."""
        return frozenset(key for key, _ in self.empty_slots())


@dataclasses.dataclass(frozen=True)
class _Spec:
    key: str
    bracket: BracketName
    round: int
    position: int
    feeds: tuple[Feed, Feed]
    optional: bool = False


def standard_seeding(size: int) -> list[int]:
    """Seed numbers in the order of the round-1 lines of a bracket of `size` lines.

    Adjacent lines meet in round 1 (1 vs size, 2 vs size-1, ...); seeds 1 and 2 can meet
    only in the final, the top 4 only from the semifinals on, and so on. Seed 1 stays on
    top and seed 2 at the bottom: for 16, 1 16 8 9 5 12 4 13 6 11 3 14 7 10 2 15.
    Raises ValueError unless `size` is a power of two, at least 2.
    """
    if size < 2 or size & (size - 1):
        raise ValueError(f"a bracket has a power of two lines, at least 2, not {size}")
    # Build the better seed of each round-1 pair, round by round from the final down;
    # the better seed of a new pair goes to its bottom, except seed 1 at the very top.
    anchors, lines = [1], 1
    while lines < size // 2:
        lines *= 2
        anchors = [s for i, a in enumerate(anchors)
                   for s in ((a, lines + 1 - a) if i == 0 else (lines + 1 - a, a))]
    return [s for a in anchors for s in (a, size + 1 - a)]


def _check_count(n: int) -> None:
    if not MIN_PARTICIPANTS <= n <= MAX_PARTICIPANTS:
        raise ValueError(f"an elimination bracket takes {MIN_PARTICIPANTS} to {MAX_PARTICIPANTS} "
                         f"participants, not {n}")


def _winner(spec: _Spec) -> Feed:
    return Feed("winner", match=spec.key)


def _loser(spec: _Spec) -> Feed:
    return Feed("loser", match=spec.key)


def _winners_rounds(n: int) -> list[list[_Spec]]:
    """The winners bracket: round 1 by standard seeding, seeds above `n` as byes."""
    size = 1 << (n - 1).bit_length()
    lines = [Feed("seed", seed=s) if s <= n else BYE for s in standard_seeding(size)]
    rounds = [[_Spec(f"W1-{p}", "winners", 1, p, (lines[2 * p - 2], lines[2 * p - 1]))
               for p in range(1, size // 2 + 1)]]
    while len(rounds[-1]) > 1:
        r, prev = len(rounds) + 1, rounds[-1]
        rounds.append([_Spec(f"W{r}-{p}", "winners", r, p,
                             (_winner(prev[2 * p - 2]), _winner(prev[2 * p - 1])))
                       for p in range(1, len(prev) // 2 + 1)])
    return rounds


def _link(format: str, n: int, specs: Sequence[_Spec]) -> Bracket:
    """The bracket of `specs`, each winner_to and loser_to read off the feeds that name it."""
    winner_to: dict[str, tuple[str, int]] = {}
    loser_to: dict[str, tuple[str, int]] = {}
    for spec in specs:
        for slot, feed in enumerate(spec.feeds):
            if feed.match is not None:
                targets = winner_to if feed.kind == "winner" else loser_to
                assert feed.match not in targets, f"{feed.kind} of {feed.match} fed twice"
                targets[feed.match] = (spec.key, slot)
    matches = tuple(BracketMatch(s.key, s.bracket, s.round, s.position, s.feeds,
                                 winner_to.get(s.key), loser_to.get(s.key), s.optional)
                    for s in specs)
    return Bracket(format=format, size=n, matches=matches)


def single_elimination(n: int, third_place: bool = False) -> Bracket:
    """A single-elimination bracket for `n` participants, given by seed number 1..n.

    The bracket has the next power of two of lines; the missing seeds are byes, so the
    top seeds get them and a bye never meets a bye. Round-1 matches with a bye stay in
    (see `Bracket.walkovers`). `third_place` adds "3P" between the semifinal losers when
    there are at least 4 participants, and is ignored below that.
    Raises ValueError unless 2 <= n <= 1024.
    """
    _check_count(n)
    rounds = _winners_rounds(n)
    specs = [s for r in rounds[:-1] for s in r]
    if third_place and n >= 4:
        semis = rounds[-2]
        specs.append(_Spec("3P", "third_place", 1, 1, (_loser(semis[0]), _loser(semis[1]))))
    specs.extend(rounds[-1])
    return _link("single_elimination", n, specs)


# Drop orders. The loser of W(r)-q enters L(2r-2)-p where p - 1 == (q - 1) ^ mask. Then the
# players who can reach one losers-bracket match and dropped from the same winners round come
# from one block of the winners bracket (the matches under one later winners match), picked by
# the match's position XOR the mask's first bits; two players can have met only if their blocks
# overlap. Round r takes the (r-1)th prefix below, its last bit repeated to the round's width:
# all ones (the round reversed), 01..1 (each half reversed), 10..0 (halves swapped), 0011..,
# ... For each width b come the b-bit values not taken yet, each followed by its complement,
# so the first 2^b - 1 prefixes differ from each other and from 0 (round 1, in order) in their
# first b bits: every match stays rematch-free until its field holds more players than blocks
# kept apart can, the earliest round any order allows (docs/brackets.md). Halves reversed
# before halves swapped: as early, but fewer rematches on average (0.41 instead of 0.53 per
# bracket of 17 to 32 over fair coin results). Seven prefixes serve up to 1024 players.
_DROP_PREFIXES = ("1", "01", "10", "001", "110", "010", "101")


def _drop_mask(r: int, rounds: int) -> int:
    """The mask of winners round r (2 <= r <= rounds) of a bracket of `rounds` winners rounds.

    The winners final has one loser (mask 0). The semifinal mask is the opposite of the top
    bit of the quarterfinal one (round 1, in order, for 8 lines): then, when favourites win,
    seed 3 meets seed 5 and seed 4 meets seed 6, not the quarterfinal losers they beat.
    """
    width = rounds - r  # bits: the round has 2**width matches
    if width == 0:
        return 0
    if width == 1:
        return 1 - (_drop_mask(r - 1, rounds) >> 1 if r > 2 else 0)
    prefix = _DROP_PREFIXES[r - 2]
    return int((prefix + prefix[-1] * width)[:width], 2)


def _dropped(losers: Sequence[_Spec], r: int, rounds: int) -> list[_Spec]:
    """The matches of winners round r in the order their losers enter the losers bracket."""
    mask = _drop_mask(r, rounds)
    return [losers[p ^ mask] for p in range(len(losers))]


def double_elimination(n: int, grand_final_reset: bool = True) -> Bracket:
    """A double-elimination bracket for `n` participants, given by seed number 1..n.

    The winners bracket is `single_elimination(n)`. For 2^k lines the losers bracket has
    2(k-1) rounds: round 1 pairs the losers of winners round 1, each even round takes the
    losers dropping from the next winners round (in the order of `_dropped`), each odd round
    halves the field; the winners-final loser drops into the losers final. GF1 puts the
    winners-bracket champion (slot 0) against the losers-bracket champion (slot 1); GF2,
    when `grand_final_reset`, is optional: played only if the losers-bracket champion
    wins GF1 (its winner goes to GF2 slot 0, its loser to slot 1).
    Raises ValueError unless 2 <= n <= 1024.
    """
    _check_count(n)
    winners = _winners_rounds(n)
    specs = list(winners[0])
    if len(winners) == 1:  # two players: the loser of the only match is the losers' champion
        losers_champion = _loser(winners[0][0])
    else:
        first = winners[0]
        prev = [_Spec(f"L1-{p}", "losers", 1, p, (_loser(first[2 * p - 2]), _loser(first[2 * p - 1])))
                for p in range(1, len(first) // 2 + 1)]
        specs.extend(winners[1])
        specs.extend(prev)
        for drop in range(1, len(winners)):
            r = 2 * drop
            dropped = _dropped(winners[drop], drop + 1, len(winners))
            prev = [_Spec(f"L{r}-{p}", "losers", r, p, (_winner(prev[p - 1]), _loser(dropped[p - 1])))
                    for p in range(1, len(prev) + 1)]
            specs.extend(prev)
            if drop + 1 < len(winners):
                specs.extend(winners[drop + 1])
                prev = [_Spec(f"L{r + 1}-{p}", "losers", r + 1, p,
                              (_winner(prev[2 * p - 2]), _winner(prev[2 * p - 1])))
                        for p in range(1, len(prev) // 2 + 1)]
                specs.extend(prev)
        losers_champion = _winner(prev[0])
    gf1 = _Spec("GF1", "grand_final", 1, 1, (_winner(winners[-1][0]), losers_champion))
    specs.append(gf1)
    if grand_final_reset:
        specs.append(_Spec("GF2", "grand_final", 2, 1, (_winner(gf1), _loser(gf1)), optional=True))
    return _link("double_elimination", n, specs)


def seed_order(participant_ids: Sequence[str], seeds: Mapping[str, int | None], method: str,
               rng_seed: int | None) -> list[str]:
    """The participants in seed order: the first is seed 1.

    "given" sorts by seed number (gaps allowed), unseeded ones after in registration
    order; "random" shuffles with `random.Random(rng_seed)`, so the same rng_seed gives
    the same order; "registration" keeps `participant_ids` as they are. Seeds of ids not
    in `participant_ids` are ignored. Raises ValueError for an unknown method, a
    duplicate participant id, a seed below 1 or two participants with the same seed.
    """
    if method not in SEED_METHODS:
        raise ValueError(f"seeding method must be one of {', '.join(SEED_METHODS)}, not {method!r}")
    if len(set(participant_ids)) != len(participant_ids):
        raise ValueError("participant ids must be unique")
    given = {pid: s for pid in participant_ids if (s := seeds.get(pid)) is not None}
    if any(s < 1 for s in given.values()):
        raise ValueError("seed numbers start at 1")
    if len(set(given.values())) != len(given):
        raise ValueError("two participants have the same seed")
    order = list(participant_ids)
    if method == "given":
        order.sort(key=lambda pid: (0, given[pid]) if pid in given else (1, 0))  # stable
    elif method == "random":
        random.Random(rng_seed).shuffle(order)
    return order
