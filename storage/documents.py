"""Records to documents and back, in the subset of BSON every backend keeps the same.

Only strings, numbers, booleans, None, flat lists and nested objects; ids as `_id`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from tournament.models import (BracketSlot, Call, CallPolicy, Chat, ChatMessage, CheckIn, Dispute, Draw, DisputeStatus,
                               EntryStatus, Event, Game, GameState, Links, Match, MatchState, Participant, Registration,
                               Report, SeriesFormat, Station, Team, TeamMember, Tournament, Veto, VetoStep,
                               VetoTaken, Webhook, Delivery, DeliveryStatus)

Doc = dict[str, Any]


def tournament_doc(t: Tournament) -> Doc:
    return {"_id": t.id, "name": t.name, "game": t.game, "format": t.format, "state": t.state,
            "created_by": t.created_by, "created_at": t.created_at, "version": t.version,
            "settings": dict(t.settings), "seed_order": list(t.seed_order),
            "placements": [dict(p) for p in t.placements], "started_at": t.started_at,
            "ended_at": t.ended_at, "spectator_chat": t.spectator_chat,
            "draw": {"rng_seed": t.draw.rng_seed, "order": list(t.draw.order), "revealed": t.draw.revealed}
            if t.draw else None,
            "stations": [dataclasses.asdict(s) for s in t.stations], "calling": dataclasses.asdict(t.calling),
            "links": {"generation": t.links.generation, "subjects": dict(t.links.subjects),
                      "codes": dict(t.links.codes)},
            "disqualified": [dict(d) for d in t.disqualified], "archived": t.archived, "deleting": t.deleting,
            "registration": _registration_doc(t.registration), "team_actors": t.team_actors}


def _registration_doc(r: Registration) -> Doc:
    return {"open": r.open, "cap": r.cap, "waitlist": r.waitlist, "approval": r.approval, "code": r.code,
            "check_in": dataclasses.asdict(r.check_in)}


def _registration_from(doc: Doc | None) -> Registration:
    if not doc:
        return Registration()
    return Registration(open=doc["open"], cap=doc["cap"], waitlist=doc["waitlist"], approval=doc["approval"],
                        code=doc["code"], check_in=CheckIn(**doc["check_in"]))


def tournament_from(doc: Doc) -> Tournament:
    return Tournament(id=doc["_id"], name=doc["name"], game=doc["game"], format=doc["format"],
                      state=doc["state"], created_by=doc["created_by"],
                      created_at=doc["created_at"], version=doc["version"],
                      settings=dict(doc.get("settings") or {}),
                      seed_order=tuple(doc.get("seed_order") or ()),
                      placements=tuple(dict(p) for p in doc.get("placements") or ()),
                      started_at=doc.get("started_at"), ended_at=doc.get("ended_at"),
                      spectator_chat=bool(doc.get("spectator_chat", False)),
                      draw=Draw(doc["draw"]["rng_seed"], tuple(doc["draw"]["order"]), doc["draw"]["revealed"])
                      if doc.get("draw") else None,
                      stations=tuple(Station(**s) for s in doc.get("stations") or ()),
                      calling=CallPolicy(**doc["calling"]) if doc.get("calling") else CallPolicy(),
                      links=Links(doc["links"]["generation"], dict(doc["links"]["subjects"]),
                                  dict(doc["links"]["codes"])) if doc.get("links") else Links(),
                      disqualified=tuple(dict(d) for d in doc.get("disqualified") or ()),
                      archived=bool(doc.get("archived", False)), deleting=bool(doc.get("deleting", False)),
                      registration=_registration_from(doc.get("registration")),
                      team_actors=doc.get("team_actors") or "captain")


def _slot_doc(s: BracketSlot | None) -> Doc | None:
    if s is None:
        return None
    return {"key": s.key, "bracket": s.bracket, "position": s.position, "feeds": list(s.feeds),
            "winner_to": list(s.winner_to) if s.winner_to else None,
            "loser_to": list(s.loser_to) if s.loser_to else None, "optional": s.optional,
            "byes": list(s.byes), "walkover": s.walkover, "group": s.group}


def _slot_from(doc: Doc | None) -> BracketSlot | None:
    if doc is None:
        return None
    winner_to, loser_to = doc["winner_to"], doc["loser_to"]
    a, b = doc["feeds"]
    bye_a, bye_b = doc["byes"]
    return BracketSlot(key=doc["key"], bracket=doc["bracket"], position=doc["position"], feeds=(a, b),
                       winner_to=(winner_to[0], winner_to[1]) if winner_to else None,
                       loser_to=(loser_to[0], loser_to[1]) if loser_to else None,
                       optional=doc["optional"], byes=(bye_a, bye_b), walkover=doc["walkover"],
                       group=doc.get("group"))


def participant_key(tournament_id: str, participant_id: str) -> str:
    """A participant's `_id`: its id is unique in its tournament only."""
    return f"{tournament_id}:{participant_id}"


def participant_doc(p: Participant) -> Doc:
    return {"_id": participant_key(p.tournament_id, p.id), "id": p.id, "tournament_id": p.tournament_id,
            "name": p.name, "seed": p.seed, "created_at": p.created_at, "status": str(p.status),
            "checked_in_at": p.checked_in_at, "team": p.team.to_json() if p.team else None,
            "roster_history": [dict(h) for h in p.roster_history]}


def _team_from(doc: Doc | None) -> Team | None:
    if not doc:
        return None
    return Team(tag=doc["tag"], members=tuple(TeamMember(**m) for m in doc["members"]))


def participant_from(doc: Doc) -> Participant:
    return Participant(id=doc["id"], tournament_id=doc["tournament_id"], name=doc["name"],
                       seed=doc["seed"], created_at=doc["created_at"],
                       status=doc.get("status") or EntryStatus.REGISTERED, checked_in_at=doc.get("checked_in_at"),
                       team=_team_from(doc.get("team")),
                       roster_history=tuple(dict(h) for h in doc.get("roster_history") or ()))


def _report_doc(r: Report | None) -> Doc | None:
    return None if r is None else {"scores": dict(r.scores), "winner_id": r.winner_id, "game": r.game,
                                   "games": [dict(g) for g in r.games]}


def _report_from(doc: Doc | None) -> Report | None:
    if doc is None:
        return None
    return Report(scores=dict(doc["scores"]), winner_id=doc["winner_id"], game=doc.get("game"),
                  games=tuple(dict(g) for g in doc.get("games") or ()))


def _veto_doc(v: Veto | None) -> Doc | None:
    if v is None:
        return None
    return {"pool": list(v.pool), "steps": [[s.action, s.by] for s in v.steps], "first": v.first,
            "chosen_by": v.chosen_by, "rng_seed": v.rng_seed, "sides": list(v.sides), "turn_s": v.turn_s,
            "on_timeout": v.on_timeout, "deadline": v.deadline,
            "taken": [{"action": t.action, "by": t.by, "map": t.map, "side": t.side, "auto": t.auto, "at": t.at}
                      for t in v.taken]}


def _veto_from(doc: Doc | None) -> Veto | None:
    if doc is None:
        return None
    return Veto(pool=tuple(doc["pool"]), steps=tuple(VetoStep(a, b) for a, b in doc["steps"]), first=doc["first"],
                chosen_by=doc["chosen_by"], rng_seed=doc["rng_seed"], sides=tuple(doc["sides"]),
                turn_s=doc["turn_s"], on_timeout=doc["on_timeout"], deadline=doc["deadline"],
                taken=tuple(VetoTaken(**t) for t in doc["taken"]))


def _game_doc(g: Game) -> Doc:
    return {"number": g.number, "state": g.state.value, "scores": dict(g.scores), "map": g.map,
            "sides": dict(g.sides), "winner_id": g.winner_id, "reported_by": g.reported_by,
            "confirmed_by": g.confirmed_by, "decided_by": g.decided_by, "started_at": g.started_at,
            "ended_at": g.ended_at}


def _game_from(doc: Doc) -> Game:
    return Game(number=doc["number"], state=GameState(doc["state"]), scores=dict(doc["scores"]), map=doc["map"],
                sides=dict(doc["sides"]), winner_id=doc["winner_id"], reported_by=doc["reported_by"],
                confirmed_by=doc["confirmed_by"], decided_by=doc["decided_by"], started_at=doc["started_at"],
                ended_at=doc["ended_at"])


def match_doc(m: Match) -> Doc:
    return {
        "_id": m.id, "tournament_id": m.tournament_id, "round": m.round, "label": m.label,
        "participant_ids": list(m.participant_ids), "state": m.state.value,
        "scores": dict(m.scores), "checked_in": list(m.checked_in),
        "reports": {pid: _report_doc(r) for pid, r in m.reports.items()},
        "result": _report_doc(m.result), "winner_id": m.winner_id,
        "created_at": m.created_at, "updated_at": m.updated_at, "started_at": m.started_at,
        "ended_at": m.ended_at, "version": m.version, "seq": m.seq, "slot": _slot_doc(m.slot),
        "history": [dict(h) for h in m.history],
        "dispute": dispute_doc(m.dispute) if m.dispute else None,
        "chat": {"messages": [dataclasses.asdict(c) for c in m.chat.messages], "muted": list(m.chat.muted)},
        "in_bracket": m.slot is not None,  # flat, so a bracket reset can select by it
        "format": {"best_of": m.format.best_of, "play_all": m.format.play_all},
        "games": [_game_doc(g) for g in m.games],
        "veto": _veto_doc(m.veto),
        "call": {**dataclasses.asdict(m.call), "no_show": list(m.call.no_show)} if m.call else None,
        "held": m.held,
    }


def match_guard(m: Match, events: list[Event], keep_version: bool) -> Doc:
    """What the stored match must still be for `m` to be written over it: the version and seq
    it was read at (a change that keeps the version, a chat message, is guarded by its seq)."""
    return {"version": m.version if keep_version else m.version - 1, "seq": m.seq - len(events)}


def match_from(doc: Doc) -> Match:
    a, b = doc["participant_ids"]
    return Match(
        id=doc["_id"], tournament_id=doc["tournament_id"], round=doc["round"], label=doc["label"],
        participant_ids=(a, b), state=MatchState(doc["state"]), scores=dict(doc["scores"]),
        checked_in=tuple(doc["checked_in"]),
        reports={pid: r for pid, d in doc["reports"].items() if (r := _report_from(d))},
        result=_report_from(doc["result"]), winner_id=doc["winner_id"],
        created_at=doc["created_at"], updated_at=doc["updated_at"],
        started_at=doc["started_at"], ended_at=doc["ended_at"], version=doc["version"],
        seq=doc["seq"], slot=_slot_from(doc.get("slot")),
        history=tuple(dict(h) for h in doc.get("history") or ()),
        dispute=dispute_from(doc["dispute"]) if doc.get("dispute") else None,
        chat=_chat_from(doc.get("chat")),
        format=SeriesFormat(**doc["format"]) if doc.get("format") else SeriesFormat(),
        games=tuple(_game_from(g) for g in doc.get("games") or ()),
        veto=_veto_from(doc.get("veto")),
        call=Call(**{**doc["call"], "no_show": tuple(doc["call"]["no_show"])}) if doc.get("call") else None,
        held=bool(doc.get("held", False)),
    )


def _chat_from(doc: Doc | None) -> Chat:
    if not doc:
        return Chat()
    return Chat(messages=tuple(ChatMessage(**m) for m in doc["messages"]), muted=tuple(doc["muted"]))


def dispute_doc(d: Dispute) -> Doc:
    return {"_id": d.id, "match_id": d.match_id, "tournament_id": d.tournament_id,
            "raised_by": d.raised_by, "reason": d.reason, "status": d.status.value,
            "created_at": d.created_at, "resolution": d.resolution, "resolved_by": d.resolved_by,
            "resolved_at": d.resolved_at, "version": d.version}


def dispute_from(doc: Doc) -> Dispute:
    return Dispute(id=doc["_id"], match_id=doc["match_id"], tournament_id=doc["tournament_id"],
                   raised_by=doc["raised_by"], reason=doc["reason"],
                   status=DisputeStatus(doc["status"]), created_at=doc["created_at"],
                   resolution=doc["resolution"], resolved_by=doc["resolved_by"],
                   resolved_at=doc["resolved_at"], version=doc["version"])


def event_doc(e: Event) -> Doc:
    return {"_id": f"{e.stream}:{e.seq}", "stream": e.stream, "seq": e.seq, "type": e.type,
            "data": e.data, "ts": e.ts}


def event_from(doc: Doc) -> Event:
    return Event(stream=doc["stream"], seq=doc["seq"], type=doc["type"], data=doc["data"],
                 ts=doc["ts"])


def webhook_doc(w: Webhook) -> Doc:
    return {"_id": w.id, "tournament_id": w.tournament_id, "url": w.url, "secret": w.secret,
            "created_by": w.created_by, "created_at": w.created_at, "events": list(w.events),
            "enabled": w.enabled, "paused": w.paused, "paused_seq": w.paused_seq}


def webhook_from(doc: Doc) -> Webhook:
    return Webhook(id=doc["_id"], tournament_id=doc["tournament_id"], url=doc["url"], secret=doc["secret"],
                   created_by=doc["created_by"], created_at=doc["created_at"], events=tuple(doc["events"]),
                   enabled=doc["enabled"], paused=doc.get("paused"), paused_seq=doc.get("paused_seq"))


def delivery_id(webhook_id: str, seq: int) -> str:
    return f"{webhook_id}:{seq}"


def delivery_doc(r: Delivery) -> Doc:
    return {"_id": delivery_id(r.webhook_id, r.seq), "webhook_id": r.webhook_id, "seq": r.seq,
            "stream": r.stream, "stream_seq": r.stream_seq, "type": r.type, "tournament_id": r.tournament_id,
            "data": r.data, "ts": r.ts, "status": r.status.value, "attempts": r.attempts,
            "last_attempt_at": r.last_attempt_at, "last_status": r.last_status, "last_error": r.last_error,
            "delivered_at": r.delivered_at}


def delivery_from(doc: Doc) -> Delivery:
    return Delivery(webhook_id=doc["webhook_id"], seq=doc["seq"], stream=doc["stream"],
                    stream_seq=doc.get("stream_seq"), type=doc["type"], tournament_id=doc["tournament_id"],
                    data=doc["data"], ts=doc["ts"], status=DeliveryStatus(doc["status"]),
                    attempts=doc.get("attempts", 0), last_attempt_at=doc.get("last_attempt_at"),
                    last_status=doc.get("last_status"), last_error=doc.get("last_error"),
                    delivered_at=doc.get("delivered_at"))
