"""Tests of the elimination brackets: seeding, byes, links, and whole brackets played out."""

from __future__ import annotations

import collections
import dataclasses
import random
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tournament.brackets import (
    BYE, Bracket, BracketMatch, Feed, FeedKind, double_elimination, seed_order, single_elimination,
    standard_seeding,
)

SIZES = st.integers(min_value=2, max_value=128)
RANDOMS = st.randoms(use_true_random=False)
FAST = settings(max_examples=60, deadline=None)
EMPTY = 0  # the "participant" of a slot nobody reaches; real participants are seeds 1..n

Pick = Callable[[BracketMatch, int, int], int]  # the winner among two seeds


def favourites(match: BracketMatch, a: int, b: int) -> int:
    """The better seed wins."""
    return min(a, b)


def coin(rng: random.Random) -> Pick:
    """Either side wins, at random."""
    return lambda match, a, b: a if rng.random() < 0.5 else b


@dataclasses.dataclass(frozen=True)
class Played:
    match: BracketMatch
    players: tuple[int, int]
    winner: int
    loser: int
    losses_before: tuple[int, int]
    met_before: bool


@dataclasses.dataclass
class Run:
    played: list[Played]
    losses: collections.Counter[int]
    champion: int


def simulate(bracket: Bracket, pick: Pick) -> Run:
    """Plays the bracket in order the way the persistence layer will: seeds fill round 1,
    results move along winner_to and loser_to, matches with an empty slot are walkovers."""
    slots: dict[tuple[str, int], int] = {}
    for m in bracket.matches:
        for slot, feed in enumerate(m.feeds):
            if feed.kind in ("seed", "bye"):
                slots[(m.key, slot)] = feed.seed or EMPTY
    played: list[Played] = []
    losses: collections.Counter[int] = collections.Counter()
    met: set[frozenset[int]] = set()
    won_from_slot: dict[str, int] = {}
    champion = EMPTY
    for m in bracket.matches:
        a, b = slots.pop((m.key, 0)), slots.pop((m.key, 1))  # KeyError: played before it is fed
        source = m.feeds[0].match
        if m.optional and source is not None and won_from_slot[source] == 0:
            champion = a  # the winners-bracket champion won GF1: no reset
            continue
        if EMPTY in (a, b):
            winner, loser = a or b, EMPTY
        else:
            winner = pick(m, a, b)
            loser = b if winner == a else a
            played.append(Played(m, (a, b), winner, loser, (losses[a], losses[b]),
                                 frozenset((a, b)) in met))
            losses[loser] += 1
            met.add(frozenset((a, b)))
        won_from_slot[m.key] = 0 if winner == a else 1
        for target, who in ((m.winner_to, winner), (m.loser_to, loser)):
            if target is not None:
                assert target not in slots, f"{target} filled twice"
                slots[target] = who
        if m.winner_to is None and m.bracket != "third_place":
            champion = winner
    assert not slots, f"filled but never played: {sorted(slots)}"
    return Run(played, losses, champion)


def w(key: str) -> Feed:
    """The winner of `key`."""
    return Feed("winner", match=key)


def lo(key: str) -> Feed:
    """The loser of `key`."""
    return Feed("loser", match=key)


def seeds_of_round_one(bracket: Bracket) -> list[Feed]:
    """The feeds of every winners round-1 slot, top to bottom."""
    return [f for m in bracket.rounds("winners")[0] for f in m.feeds]


def test_standard_seeding_of_8_and_16() -> None:
    """Seed 1 on top, seed 2 at the bottom, the classic lines for 8 and 16."""
    assert standard_seeding(8) == [1, 8, 4, 5, 3, 6, 2, 7]
    assert standard_seeding(16) == [1, 16, 8, 9, 5, 12, 4, 13, 6, 11, 3, 14, 7, 10, 2, 15]
    assert standard_seeding(2) == [1, 2]


@pytest.mark.parametrize("size", [0, 1, 3, 6, 12])
def test_standard_seeding_needs_a_power_of_two(size: int) -> None:
    """A bracket of lines that is not a power of two is refused."""
    with pytest.raises(ValueError):
        standard_seeding(size)


@pytest.mark.parametrize("n", [-1, 0, 1, 1025])
def test_participant_count_out_of_range_is_refused(n: int) -> None:
    """Both formats take 2 to 1024 participants."""
    with pytest.raises(ValueError):
        single_elimination(n)
    with pytest.raises(ValueError):
        double_elimination(n)


def test_eight_player_single_elimination() -> None:
    """The 8-player bracket of docs/brackets.md, match by match."""
    b = single_elimination(8)
    assert [(m.key, [f.seed for f in m.feeds]) for m in b.rounds("winners")[0]] == [
        ("W1-1", [1, 8]), ("W1-2", [4, 5]), ("W1-3", [3, 6]), ("W1-4", [2, 7])]
    assert [m.key for m in b.matches] == ["W1-1", "W1-2", "W1-3", "W1-4", "W2-1", "W2-2", "W3-1"]
    assert b.match("W1-3").winner_to == ("W2-2", 0)
    assert b.match("W2-2").feeds == (Feed("winner", match="W1-3"), Feed("winner", match="W1-4"))
    assert b.match("W3-1").winner_to is None and b.match("W3-1").loser_to is None
    assert b.format == "single_elimination" and b.size == 8 and b.walkovers() == frozenset()


def test_four_player_double_elimination() -> None:
    """The 4-player bracket of docs/brackets.md, match by match."""
    b = double_elimination(4)
    links = {m.key: (m.feeds, m.winner_to, m.loser_to, m.optional) for m in b.matches}
    assert links == {
        "W1-1": ((Feed("seed", seed=1), Feed("seed", seed=4)), ("W2-1", 0), ("L1-1", 0), False),
        "W1-2": ((Feed("seed", seed=2), Feed("seed", seed=3)), ("W2-1", 1), ("L1-1", 1), False),
        "W2-1": ((w("W1-1"), w("W1-2")), ("GF1", 0), ("L2-1", 1), False),
        "L1-1": ((lo("W1-1"), lo("W1-2")), ("L2-1", 0), None, False),
        "L2-1": ((w("L1-1"), lo("W2-1")), ("GF1", 1), None, False),
        "GF1": ((w("W2-1"), w("L2-1")), ("GF2", 0), ("GF2", 1), False),
        "GF2": ((w("GF1"), lo("GF1")), None, None, True),
    }
    assert [m.key for m in b.matches] == ["W1-1", "W1-2", "W2-1", "L1-1", "L2-1", "GF1", "GF2"]
    assert [[m.key for m in r] for r in b.rounds("grand_final")] == [["GF1"], ["GF2"]]


def test_two_player_double_elimination() -> None:
    """With two players the loser of the only winners match goes straight to the grand final."""
    b = double_elimination(2, grand_final_reset=False)
    assert [m.key for m in b.matches] == ["W1-1", "GF1"]
    assert b.match("W1-1").loser_to == ("GF1", 1) and b.rounds("losers") == []


def test_bracket_lookup() -> None:
    """`match` finds a key or raises KeyError; `rounds` groups one bracket's matches."""
    b = single_elimination(5, third_place=True)
    assert b.match("3P").bracket == "third_place"
    with pytest.raises(KeyError):
        b.match("L1-1")
    assert [len(r) for r in b.rounds("winners")] == [4, 2, 1]
    assert b.walkovers() == {"W1-1", "W1-3", "W1-4"}  # seeds 1, 3 and 2 face a bye


@FAST
@given(n=SIZES, double=st.booleans())
def test_round_one_places_every_seed_once(n: int, double: bool) -> None:
    """Every seed is on exactly one round-1 line, the rest are byes, next to the top seeds."""
    b = double_elimination(n) if double else single_elimination(n)
    lines = seeds_of_round_one(b)
    assert sorted(f.seed for f in lines if f.seed is not None) == list(range(1, n + 1))
    assert len(lines) == 1 << (n - 1).bit_length() and lines.count(BYE) == len(lines) - n
    byes_against = sorted(f.seed or 0 for m in b.rounds("winners")[0] if BYE in m.feeds
                          for f in m.feeds if f != BYE)
    assert byes_against == list(range(1, len(lines) - n + 1))  # never a bye against a bye


@FAST
@given(n=SIZES, third_place=st.booleans())
def test_single_elimination_has_n_minus_1_real_matches(n: int, third_place: bool) -> None:
    """Not counting walkovers, n-1 matches, one more with a third-place match (n >= 4)."""
    b = single_elimination(n, third_place)
    extra = 1 if third_place and n >= 4 else 0
    assert len(b.matches) - len(b.walkovers()) == n - 1 + extra
    assert b.walkovers() <= {m.key for m in b.rounds("winners")[0]}


@FAST
@given(n=SIZES, reset=st.booleans())
def test_double_elimination_has_2n_minus_2_real_matches(n: int, reset: bool) -> None:
    """Not counting walkovers, 2n-2 matches, 2n-1 when the grand final may be reset."""
    b = double_elimination(n, reset)
    assert len(b.matches) - len(b.walkovers()) == 2 * n - 2 + reset
    k = len(b.rounds("winners"))
    assert len(b.rounds("losers")) == 2 * (k - 1)


@FAST
@given(n=SIZES, double=st.booleans(), option=st.booleans())
def test_every_link_points_at_one_slot_that_names_it_back(n: int, double: bool, option: bool) -> None:
    """Keys are unique; each winner_to/loser_to targets an existing match whose slot feeds from
    it; each slot is fed exactly once; a source always comes before the match it feeds."""
    b = double_elimination(n, option) if double else single_elimination(n, option)
    keys = [m.key for m in b.matches]
    assert len(set(keys)) == len(keys)
    order = {k: i for i, k in enumerate(keys)}
    pointers: collections.Counter[tuple[str, int]] = collections.Counter()
    for m in b.matches:
        links: list[tuple[FeedKind, tuple[str, int] | None]] = [
            ("winner", m.winner_to), ("loser", m.loser_to)]
        for kind, target in links:
            if target is not None:
                key, slot = target
                assert b.match(key).feeds[slot] == Feed(kind, match=m.key)
                pointers[target] += 1
    for m in b.matches:
        for slot, feed in enumerate(m.feeds):
            assert (feed.seed is not None) == (feed.kind == "seed")
            assert (feed.match is not None) == (feed.kind in ("winner", "loser"))
            if feed.match is not None:
                assert pointers[(m.key, slot)] == 1 and order[feed.match] < order[m.key]
            else:
                assert pointers[(m.key, slot)] == 0


@FAST
@given(n=SIZES, reset=st.booleans())
def test_every_winners_loser_drops_exactly_once(n: int, reset: bool) -> None:
    """In double elimination each winners-match loser has a place; losers-bracket losers are out."""
    b = double_elimination(n, reset)
    for m in b.matches:
        if m.bracket == "winners":
            assert m.loser_to is not None and b.match(m.loser_to[0]).bracket in ("losers", "grand_final")
        elif m.bracket == "losers":
            assert m.loser_to is None
    assert [m.key for m in b.matches if m.optional] == (["GF2"] if reset else [])


@FAST
@given(n=SIZES, double=st.booleans())
def test_favourites_meet_by_seed_sums_and_1_v_2_in_the_final(n: int, double: bool) -> None:
    """When the better seed always wins, winners round r pairs seeds adding up to S/2^(r-1)+1,
    seed 1 is champion and seeds 1 and 2 meet in the (winners) final."""
    b = double_elimination(n) if double else single_elimination(n)
    run = simulate(b, favourites)
    lines = 1 << (n - 1).bit_length()
    winners = [p for p in run.played if p.match.bracket == "winners"]
    for p in winners:
        assert sum(p.players) == lines // 2 ** (p.match.round - 1) + 1
    final = b.rounds("winners")[-1][0]
    assert [sorted(p.players) for p in winners if p.match == final] == [[1, 2]]
    assert run.champion == 1
    if double:
        assert {p.match.key for p in run.played if p.match.bracket == "grand_final"} == {"GF1"}


@settings(max_examples=100, deadline=None)
@given(n=SIZES, rng=RANDOMS, double=st.booleans())
def test_top_seeds_never_meet_early(n: int, rng: random.Random, double: bool) -> None:
    """Whatever the results, two of the top 2^t seeds meet no earlier than the winners round
    with 2^t players left: seeds 1 and 2 only in the final, the top 4 from the semifinals."""
    b = double_elimination(n) if double else single_elimination(n)
    rounds = len(b.rounds("winners"))
    for p in simulate(b, coin(rng)).played:
        if p.match.bracket == "winners":
            t = (max(p.players) - 1).bit_length()  # the worse seed is in the top 2^t
            assert p.match.round >= rounds - t + 1
            if sorted(p.players) == [1, 2]:
                assert p.match.round == rounds


@FAST
@given(n=SIZES, rng=RANDOMS, third_place=st.booleans())
def test_single_elimination_out_after_one_loss(n: int, rng: random.Random, third_place: bool) -> None:
    """Only the champion never loses; nobody plays on after a loss except in the third-place
    match, which the two semifinal losers play."""
    b = single_elimination(n, third_place)
    run = simulate(b, coin(rng))
    assert len(run.played) == n - 1 + (1 if third_place and n >= 4 else 0)
    for p in run.played:
        assert p.losses_before == ((1, 1) if p.match.key == "3P" else (0, 0))
    assert run.champion not in run.losses
    assert sorted(run.losses) == sorted(set(range(1, n + 1)) - {run.champion})


@settings(max_examples=100, deadline=None)
@given(n=SIZES, rng=RANDOMS, reset=st.booleans())
def test_double_elimination_out_after_two_losses(n: int, rng: random.Random, reset: bool) -> None:
    """Nobody plays with two losses; at the end everyone but the champion has exactly two (but
    for the winners-bracket champion losing a grand final without reset), the champion at
    most one, in 2n-2 matches, or 2n-1 when the reset was needed and allowed."""
    b = double_elimination(n, reset)
    run = simulate(b, coin(rng))
    for p in run.played:
        assert max(p.losses_before) < 2
    assert run.losses[run.champion] <= 1
    gf1 = next(p for p in run.played if p.match.key == "GF1")
    one_loss_out = gf1.players[0] if not reset and gf1.winner == gf1.players[1] else None
    for s in range(1, n + 1):
        assert run.losses[s] == (1 if s == one_loss_out else 2) or s == run.champion
    gf2_played = any(p.match.key == "GF2" for p in run.played)
    assert len(run.played) == 2 * n - 2 + gf2_played
    assert gf2_played == (reset and run.losses[run.champion] == 1)


def rematches(bracket: Bracket, run: Run) -> list[Played]:
    """The losers-bracket matches before the losers final between two players who already met."""
    final = len(bracket.rounds("losers"))
    return [p for p in run.played
            if p.match.bracket == "losers" and p.match.round < final and p.met_before]


def rematch_bound(n: int) -> int:
    """The most rematches before the losers final that any results give with n players:
    ceil(log2 n) - 2, none up to 4 (the exact maximum over all results, found by a search
    outside the suite; UPSETS reach it)."""
    return max(0, (n - 1).bit_length() - 2)


def first_forced_round(lines: int) -> int:
    """The earliest losers round that every drop order leaves open to a rematch. A match of
    L(2d) draws on 2^d losers of winners round 1 and 2^(d-j) of each round 1+j <= d+1; if none
    of them can have met, the round-1 matches under them are apart: (d+1)*2^d of the lines/2,
    twice that in L(2d+1). For 4 lines it is the losers final."""
    d = 1
    while True:
        if (d + 1) << d > lines // 2:
            return 2 * d
        if (d + 1) << (d + 1) > lines // 2:
            return 2 * d + 1
        d += 1


def rematch_rounds(bracket: Bracket) -> set[int]:
    """The losers rounds before the losers final with a match where, for some results, two
    players meet who already met: one dropped from a winners match under the other's."""
    above: dict[str, set[str]] = {}  # a winners match -> the later winners matches its winner can reach
    for m in reversed(bracket.matches):
        if m.bracket == "winners":
            after = m.winner_to[0] if m.winner_to else ""
            above[m.key] = {after} | above[after] if after in above else set()  # the final: none
    empty = bracket.empty_slots()
    field: dict[str, set[str]] = {}  # a losers match -> the winners matches whose losers can reach it
    rounds = set()
    for m in bracket.matches:
        if m.bracket != "losers":
            continue
        sides: list[set[str]] = []
        for slot, f in enumerate(m.feeds):
            assert f.match is not None  # losers-bracket slots are fed by matches
            sides.append(set() if (m.key, slot) in empty
                         else {f.match} if f.kind == "loser" else field[f.match])
        field[m.key] = sides[0] | sides[1]
        if any(above[x] & sides[1 - i] for i in (0, 1) for x in sides[i]):
            rounds.add(m.round)
    return {r for r in rounds if r < len(bracket.rounds("losers"))}


@settings(max_examples=300, deadline=None)
@given(n=st.integers(min_value=4, max_value=64), rng=RANDOMS)
def test_losers_bracket_rematches_are_few_and_late(n: int, rng: random.Random) -> None:
    """Whatever the results, at most ceil(log2 n) - 2 losers-bracket matches before the losers
    final are rematches (none for 4), and none comes before the first round the bracket forces."""
    b = double_elimination(n)
    found = rematches(b, simulate(b, coin(rng)))
    assert len(found) <= rematch_bound(n), [(p.match.key, p.players) for p in found]
    lines = 1 << (n - 1).bit_length()
    assert all(p.match.round >= first_forced_round(lines) for p in found)


@pytest.mark.parametrize("n", [8, 16, 32, 64, 12, 48, 100, 1000])
def test_favourites_never_rematch_before_the_losers_final(n: int) -> None:
    """When the better seed always wins, nobody in the losers bracket meets someone they already
    played before the losers final (there, the winners-final loser meets the semifinal loser
    they beat)."""
    b = double_elimination(n)
    assert [(p.match.key, p.players) for p in rematches(b, simulate(b, favourites))] == []


UPSETS = {  # favourites win every match but these, and the rematches reach the bound
    8: {"W2-2", "L1-2", "L2-2"},
    16: {"W2-4", "L2-4", "L3-2"},
    32: {"W2-3", "W3-4", "L1-8", "L2-3", "L2-8", "L3-2", "L3-4", "L4-1", "L4-2", "L4-4", "L6-1",
         "L6-2"},
    64: {"W2-14", "W4-2", "W4-4", "L1-5", "L2-5", "L2-14", "L3-3", "L3-7", "L4-2", "L4-3", "L4-6",
         "L4-7", "L5-2", "L5-3", "L5-4", "L6-1", "L6-2", "L6-3", "L6-4"},
}


@pytest.mark.parametrize("n", sorted(UPSETS))
def test_some_results_reach_the_rematch_bound(n: int) -> None:
    """The bound is exact: these results give ceil(log2 n) - 2 rematches before the losers final."""
    b = double_elimination(n)
    run = simulate(b, lambda m, a, c: max(a, c) if m.key in UPSETS[n] else min(a, c))
    assert len(rematches(b, run)) == rematch_bound(n)


@pytest.mark.parametrize("lines", [4, 8, 16, 32, 64, 128, 256, 512, 1024])
def test_rematches_wait_for_the_round_the_bracket_forces(lines: int) -> None:
    """Every losers round before the one that the counting argument forces is rematch-free,
    whatever the results; 8 lines: L3, 16: L4, 32: L5, 64: L7, ..., 1024: L13."""
    forced = rematch_rounds(double_elimination(lines))
    last = 2 * (lines.bit_length() - 2)  # the losers final
    assert forced == set(range(first_forced_round(lines), last))


def test_grand_final_reset_only_when_the_losers_champion_wins_gf1() -> None:
    """GF2 is played when the losers-bracket champion wins GF1, and skipped otherwise."""
    b = double_elimination(4)
    underdog = simulate(b, lambda m, a, b: b if m.key == "GF1" else min(a, b))
    assert [p.match.key for p in underdog.played][-2:] == ["GF1", "GF2"]
    assert underdog.played[-1].players == (2, 1)  # GF1's winner in slot 0, its loser in slot 1
    favourite = simulate(b, favourites)
    assert favourite.played[-1].match.key == "GF1" and favourite.champion == 1


def test_third_place_needs_four_players() -> None:
    """The third-place match takes the semifinal losers, and exists from 4 participants."""
    assert "3P" not in {m.key for m in single_elimination(3, third_place=True).matches}
    b = single_elimination(4, third_place=True)
    assert b.match("3P").feeds == (Feed("loser", match="W1-1"), Feed("loser", match="W1-2"))
    assert [m.key for m in b.matches] == ["W1-1", "W1-2", "3P", "W2-1"]


def test_seed_order_given() -> None:
    """Seeded first by number (gaps allowed), then the unseeded in registration order."""
    ids = ["ann", "bob", "cid", "dan", "eve"]
    seeds: dict[str, int | None] = {"cid": 1, "eve": 5, "ann": None, "zed": 1}
    assert seed_order(ids, seeds, "given", None) == ["cid", "eve", "ann", "bob", "dan"]


def test_seed_order_registration_and_random() -> None:
    """Registration keeps the order; random is a permutation fixed by the rng seed."""
    ids = [f"p{i}" for i in range(20)]
    assert seed_order(ids, {"p3": 1}, "registration", None) == ids
    shuffled = seed_order(ids, {}, "random", 42)
    assert shuffled == seed_order(ids, {}, "random", 42) and sorted(shuffled) == sorted(ids)
    assert shuffled != ids and shuffled != seed_order(ids, {}, "random", 43)


@pytest.mark.parametrize("ids, seeds, method", [
    (["a", "b"], {}, "alphabetical"),
    (["a", "b"], {"a": 1, "b": 1}, "given"),
    (["a", "b"], {"a": 1, "b": 1}, "random"),
    (["a", "b"], {"a": 0}, "given"),
    (["a", "a"], {}, "registration"),
])
def test_seed_order_refuses(ids: list[str], seeds: dict[str, int | None], method: str) -> None:
    """An unknown method, a shared or non-positive seed and a duplicate id are refused."""
    with pytest.raises(ValueError):
        seed_order(ids, seeds, method, 1)
