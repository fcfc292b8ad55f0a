"""In-process store: everything in dictionaries, nothing persists (`--store memory`)."""

from __future__ import annotations

import copy
from typing import Any

from storage import documents as d
from storage.base import IdempotencyRecord
from storage.errors import ConflictError, NotFoundError
from tournament.models import Dispute, DisputeStatus, Event, Match, Participant, Tournament, match_stream

Doc = dict[str, Any]


class MemoryStore:
    """The Store interface over dictionaries of documents (copied in and out)."""

    def __init__(self) -> None:
        self._tables: dict[str, dict[str, Doc]] = {
            name: {} for name in ("tournaments", "participants", "matches", "disputes", "events",
                                  "idempotency")
        }

    def _insert(self, table: str, doc: Doc) -> None:
        rows = self._tables[table]
        if doc["_id"] in rows:
            raise ConflictError(f"{table} already has {doc['_id']}")
        rows[doc["_id"]] = copy.deepcopy(doc)

    def _get(self, table: str, kind: str, record_id: str) -> Doc:
        try:
            return copy.deepcopy(self._tables[table][record_id])
        except KeyError:
            raise NotFoundError(kind, record_id) from None

    def _where(self, table: str, **equal: Any) -> list[Doc]:
        """Matching documents, oldest first (insertion order among equal times)."""
        docs = [copy.deepcopy(doc) for doc in self._tables[table].values()
                if all(doc.get(k) == v for k, v in equal.items())]
        return sorted(docs, key=lambda doc: doc.get("created_at", 0))

    async def setup(self) -> None:
        pass

    async def ping(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def insert_tournament(self, tournament: Tournament) -> None:
        self._insert("tournaments", d.tournament_doc(tournament))

    async def get_tournament(self, tournament_id: str) -> Tournament:
        return d.tournament_from(self._get("tournaments", "tournament", tournament_id))

    async def list_tournaments(self) -> list[Tournament]:
        docs = sorted(self._where("tournaments"), key=lambda doc: doc["created_at"], reverse=True)
        return [d.tournament_from(doc) for doc in docs]

    async def save_tournament(self, tournament: Tournament) -> None:
        self._guarded_write("tournaments", "tournament", d.tournament_doc(tournament), tournament.version)

    def _guarded_write(self, table: str, kind: str, doc: Doc, version: int) -> None:
        stored = self._get(table, kind, doc["_id"])
        if stored["version"] != version - 1:
            raise ConflictError(f"{kind} {doc['_id']} changed (version {stored['version']})")
        self._tables[table][doc["_id"]] = copy.deepcopy(doc)

    async def insert_participant(self, participant: Participant) -> None:
        self._insert("participants", d.participant_doc(participant))

    async def list_participants(self, tournament_id: str) -> list[Participant]:
        return [d.participant_from(doc) for doc in self._where("participants", tournament_id=tournament_id)]

    async def insert_match(self, match: Match) -> None:
        self._insert("matches", d.match_doc(match))

    async def get_match(self, match_id: str) -> Match:
        return d.match_from(self._get("matches", "match", match_id))

    async def list_matches(self, tournament_id: str) -> list[Match]:
        return [d.match_from(doc) for doc in self._where("matches", tournament_id=tournament_id)]

    async def delete_matches(self, tournament_id: str) -> int:
        doomed = [doc["_id"] for doc in self._where("matches", tournament_id=tournament_id, in_bracket=True)]
        streams = {match_stream(match_id) for match_id in doomed}
        for match_id in doomed:
            del self._tables["matches"][match_id]
        events = self._tables["events"]
        for key in [k for k, doc in events.items() if doc["stream"] in streams]:
            del events[key]
        return len(doomed)

    async def save_match(self, match: Match, events: list[Event], dispute: Dispute | None) -> None:
        self._guarded_write("matches", "match", d.match_doc(match), match.version)
        if dispute is not None:
            self._tables["disputes"][dispute.id] = d.dispute_doc(dispute)
        for event in events:
            self._insert("events", d.event_doc(event))

    async def get_dispute(self, dispute_id: str) -> Dispute:
        return d.dispute_from(self._get("disputes", "dispute", dispute_id))

    async def open_dispute(self, match_id: str) -> Dispute | None:
        docs = self._where("disputes", match_id=match_id, status=DisputeStatus.OPEN.value)
        return d.dispute_from(docs[0]) if docs else None

    async def list_disputes(self, match_id: str) -> list[Dispute]:
        return [d.dispute_from(doc) for doc in self._where("disputes", match_id=match_id)]

    async def list_events(self, stream: str, since: int = 0, limit: int = 1000) -> list[Event]:
        docs = [doc for doc in self._where("events", stream=stream) if doc["seq"] > since]
        docs.sort(key=lambda doc: doc["seq"])
        return [d.event_from(doc) for doc in docs[:limit]]

    async def claim_idempotency_key(self, scope: str, fingerprint: str,
                                    now: float) -> IdempotencyRecord | None:
        rows = self._tables["idempotency"]
        if scope in rows:
            doc = rows[scope]
            return IdempotencyRecord(scope, doc["fingerprint"], doc["created_at"], doc["status"],
                                     copy.deepcopy(doc["body"]))
        rows[scope] = {"_id": scope, "fingerprint": fingerprint, "created_at": now,
                       "status": None, "body": None}
        return None

    async def complete_idempotency_key(self, scope: str, status: int, body: dict[str, Any]) -> None:
        self._tables["idempotency"][scope].update(status=status, body=copy.deepcopy(body))

    async def release_idempotency_key(self, scope: str) -> None:
        self._tables["idempotency"].pop(scope, None)

    async def purge_idempotency_keys(self, older_than: float) -> int:
        rows = self._tables["idempotency"]
        old = [k for k, doc in rows.items() if doc["created_at"] < older_than]
        for k in old:
            del rows[k]
        return len(old)
