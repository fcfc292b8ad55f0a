"""MongoDB store through PyMongo's async client; the same code serves the embedded server."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from bson.errors import BSONError
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, ConnectionFailure, DuplicateKeyError, PyMongoError

from storage import documents as d
from tournament.models import (Delivery, DeliveryStatus, Dispute, EntryStatus, Event, Match, Participant,
                               Tournament, Webhook, match_stream)
from tournament.store import (ConflictError, IdempotencyRecord, NotFoundError, StorageError,
                              StorageUnavailableError)

Doc = dict[str, Any]
DUPLICATE_KEY = 11000  # the server's error code for a unique key taken


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """Turn driver errors into storage errors."""
    try:
        yield
    except DuplicateKeyError as e:
        raise ConflictError("duplicate key") from e
    except ConnectionFailure as e:  # includes AutoReconnect and server selection timeouts
        raise StorageUnavailableError(f"database unreachable: {type(e).__name__}") from e
    except PyMongoError as e:
        raise StorageError(f"database error: {e}") from e
    except (BSONError, UnicodeEncodeError) as e:  # what the edge's checks should have refused
        raise StorageError(f"the record cannot be stored: {type(e).__name__}") from e


class MongoStore:
    """The Store interface over one MongoDB database."""

    def __init__(self, url: str, db_name: str, timeout_s: float = 2.0) -> None:
        timeout_ms = int(timeout_s * 1000)
        self._client: AsyncMongoClient[Doc] = AsyncMongoClient(
            url, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms,
            tz_aware=False, uuidRepresentation="standard")
        db = self._client[db_name]
        self._db = db
        self._tournaments: AsyncCollection[Doc] = db["tournaments"]
        self._participants: AsyncCollection[Doc] = db["participants"]
        self._matches: AsyncCollection[Doc] = db["matches"]
        self._disputes: AsyncCollection[Doc] = db["disputes"]
        self._events: AsyncCollection[Doc] = db["events"]
        self._idempotency: AsyncCollection[Doc] = db["idempotency"]
        self._webhooks: AsyncCollection[Doc] = db["webhooks"]
        self._deliveries: AsyncCollection[Doc] = db["deliveries"]

    async def setup(self) -> None:
        with _translated():
            await self._participants.create_index([("tournament_id", ASCENDING)])
            await self._matches.create_index([("tournament_id", ASCENDING)])
            await self._disputes.create_index([("match_id", ASCENDING)])
            await self._events.create_index([("stream", ASCENDING), ("seq", ASCENDING)], unique=True)
            await self._webhooks.create_index([("tournament_id", ASCENDING)])
            await self._deliveries.create_index([("webhook_id", ASCENDING), ("seq", ASCENDING)], unique=True)

    async def ping(self) -> None:
        with _translated():
            await self._client.admin.command("ping")

    async def close(self) -> None:
        await self._client.close()

    async def drop(self) -> None:
        """Delete the whole database (tests only)."""
        with _translated():
            await self._client.drop_database(self._db.name)

    async def _get(self, coll: AsyncCollection[Doc], kind: str, record_id: str) -> Doc:
        with _translated():
            doc = await coll.find_one({"_id": record_id})
        if doc is None:
            raise NotFoundError(kind, record_id)
        return doc

    async def _find(self, coll: AsyncCollection[Doc], query: Doc) -> list[Doc]:
        with _translated():
            cursor = coll.find(query).sort([("created_at", ASCENDING), ("_id", ASCENDING)])
            return [doc async for doc in cursor]

    async def _insert(self, coll: AsyncCollection[Doc], doc: Doc) -> None:
        with _translated():
            await coll.insert_one(doc)

    async def insert_tournament(self, tournament: Tournament) -> None:
        await self._insert(self._tournaments, d.tournament_doc(tournament))

    async def get_tournament(self, tournament_id: str) -> Tournament:
        return d.tournament_from(await self._get(self._tournaments, "tournament", tournament_id))

    async def list_tournaments(self, limit: int = 100, before: tuple[float, str] | None = None,
                               archived: bool | None = None) -> list[Tournament]:
        query: Doc = {}
        if before is not None:  # newest first: older ones, or as old with a greater id
            created_at, tournament_id = before
            query = {"$or": [{"created_at": {"$lt": created_at}},
                             {"created_at": created_at, "_id": {"$gt": tournament_id}}]}
        if archived is not None:  # stored only once archived: the others have no field, or false
            query = {**query, "archived": True} if archived else {**query, "archived": {"$ne": True}}
        with _translated():
            cursor = (self._tournaments.find(query).sort([("created_at", DESCENDING), ("_id", ASCENDING)])
                      .limit(limit))
            return [d.tournament_from(doc) async for doc in cursor]

    async def _guarded_write(self, coll: AsyncCollection[Doc], kind: str, doc: Doc, guard: Doc) -> None:
        """Write `doc` over the stored record only if that still has the `guard` fields (the
        commit point: a concurrent writer fails here). Raises ConflictError or NotFoundError."""
        record_id = doc.pop("_id")
        with _translated():
            result = await coll.update_one({"_id": record_id, **guard}, {"$set": doc})
        if result.matched_count == 0:
            await self._get(coll, kind, record_id)  # NotFoundError if gone
            raise ConflictError(f"{kind} {record_id} changed since it was read")

    async def delete_tournament(self, tournament_id: str) -> None:
        with _translated():
            matches = [doc["_id"] async for doc in self._matches.find({"tournament_id": tournament_id}, {"_id": 1})]
            for match_id in matches:  # one stream at a time: no $in needed of the embedded server
                await self._events.delete_many({"stream": match_stream(match_id)})
            await self._disputes.delete_many({"tournament_id": tournament_id})
            await self._matches.delete_many({"tournament_id": tournament_id})
            await self._participants.delete_many({"tournament_id": tournament_id})
            async for doc in self._webhooks.find({"tournament_id": tournament_id}, {"_id": 1}):
                await self._deliveries.delete_many({"webhook_id": doc["_id"]})
            await self._webhooks.delete_many({"tournament_id": tournament_id})
            await self._tournaments.delete_one({"_id": tournament_id})

    async def save_tournament(self, tournament: Tournament) -> None:
        await self._guarded_write(self._tournaments, "tournament", d.tournament_doc(tournament),
                                  {"version": tournament.version - 1})

    async def insert_participant(self, participant: Participant) -> None:
        await self._insert(self._participants, d.participant_doc(participant))

    async def insert_participants(self, participants: Sequence[Participant]) -> None:
        docs = [d.participant_doc(p) for p in participants]
        if not docs:
            return
        with _translated():
            try:
                await self._participants.insert_many(docs, ordered=True)
            except BulkWriteError as e:
                refused = e.details.get("writeErrors") or [{}]
                if refused[0].get("code") != DUPLICATE_KEY:
                    raise
                # Ordered: the ones before the refused one are in. No transaction (the embedded
                # server has none), so they are taken out again: none of them is kept.
                for doc in docs[:refused[0].get("index", len(docs))]:
                    await self._participants.delete_one({"_id": doc["_id"]})
                raise ConflictError("one of these participants' ids is taken") from e

    async def save_participant(self, participant: Participant) -> None:
        doc = d.participant_doc(participant)
        with _translated():
            result = await self._participants.replace_one({"_id": doc["_id"]}, doc)
        if result.matched_count == 0:
            raise NotFoundError("participant", participant.id)

    async def delete_participant(self, tournament_id: str, participant_id: str) -> None:
        with _translated():
            result = await self._participants.delete_one({"_id": d.participant_key(tournament_id, participant_id)})
        if result.deleted_count == 0:
            raise NotFoundError("participant", participant_id)

    async def list_participants(self, tournament_id: str) -> list[Participant]:
        # Filtered here, not in the query: records from before statuses have none (registered).
        return [p for p in await self.list_entries(tournament_id) if p.status == EntryStatus.REGISTERED]

    async def list_entries(self, tournament_id: str) -> list[Participant]:
        docs = await self._find(self._participants, {"tournament_id": tournament_id})
        return [d.participant_from(doc) for doc in docs]

    async def insert_match(self, match: Match) -> None:
        await self._insert(self._matches, d.match_doc(match))

    async def get_match(self, match_id: str) -> Match:
        return d.match_from(await self._get(self._matches, "match", match_id))

    async def list_matches(self, tournament_id: str) -> list[Match]:
        docs = await self._find(self._matches, {"tournament_id": tournament_id})
        return [d.match_from(doc) for doc in docs]

    async def delete_matches(self, tournament_id: str) -> int:
        query = {"tournament_id": tournament_id, "in_bracket": True}
        with _translated():
            doomed = [doc["_id"] async for doc in self._matches.find(query, {"_id": 1})]
            for match_id in doomed:  # one stream at a time: no $in needed of the embedded server
                await self._events.delete_many({"stream": match_stream(match_id)})
            result = await self._matches.delete_many(query)
        return result.deleted_count

    async def save_match(self, match: Match, events: list[Event], dispute: Dispute | None,
                         keep_version: bool = False) -> None:
        with _translated():
            if events:  # upserts: a leftover of a write that never committed is overwritten
                await self._events.bulk_write(
                    [ReplaceOne({"_id": doc["_id"]}, doc, upsert=True) for doc in map(d.event_doc, events)],
                    ordered=True)
            if dispute is not None:
                await self._disputes.replace_one({"_id": dispute.id}, d.dispute_doc(dispute), upsert=True)
        await self._guarded_write(self._matches, "match", d.match_doc(match), d.match_guard(match, events, keep_version))

    async def get_dispute(self, dispute_id: str) -> Dispute:
        return d.dispute_from(await self._get(self._disputes, "dispute", dispute_id))

    async def list_disputes(self, match_id: str) -> list[Dispute]:
        return [d.dispute_from(doc) for doc in await self._find(self._disputes, {"match_id": match_id})]

    async def list_events(self, stream: str, since: int = 0, limit: int = 1000,
                          until: int | None = None) -> list[Event]:
        seq: Doc = {"$gt": since} if until is None else {"$gt": since, "$lte": until}
        with _translated():
            cursor = self._events.find({"stream": stream, "seq": seq}).sort("seq", ASCENDING).limit(limit)
            return [d.event_from(doc) async for doc in cursor]

    async def claim_idempotency_key(self, scope: str, fingerprint: str, now: float,
                                    abandoned_before: float) -> IdempotencyRecord | None:
        claim = {"fingerprint": fingerprint, "created_at": now, "status": None, "body": None}
        try:
            await self._insert(self._idempotency, {"_id": scope, **claim})
            return None
        except ConflictError:
            pass
        with _translated():  # take over a claim whose request was cut off
            taken = await self._idempotency.update_one(
                {"_id": scope, "status": None, "created_at": {"$lt": abandoned_before}}, {"$set": claim})
        if taken.modified_count:
            return None
        doc = await self._get(self._idempotency, "idempotency key", scope)
        return IdempotencyRecord(scope, doc["fingerprint"], doc["created_at"], doc["status"], doc["body"])

    async def complete_idempotency_key(self, scope: str, status: int, body: dict[str, Any]) -> None:
        with _translated():
            await self._idempotency.update_one({"_id": scope},
                                               {"$set": {"status": status, "body": body}})

    async def release_idempotency_key(self, scope: str) -> None:
        with _translated():
            await self._idempotency.delete_one({"_id": scope})

    async def purge_idempotency_keys(self, older_than: float) -> int:
        with _translated():
            result = await self._idempotency.delete_many({"created_at": {"$lt": older_than}})
        return result.deleted_count

    async def insert_webhook(self, webhook: Webhook) -> None:
        await self._insert(self._webhooks, d.webhook_doc(webhook))

    async def save_webhook(self, webhook: Webhook) -> None:
        doc = d.webhook_doc(webhook)
        with _translated():
            result = await self._webhooks.replace_one({"_id": webhook.id}, doc)
        if result.matched_count == 0:
            raise NotFoundError("webhook", webhook.id)

    async def list_webhooks(self, tournament_id: str | None = None) -> list[Webhook]:
        query = {} if tournament_id is None else {"tournament_id": tournament_id}
        return [d.webhook_from(doc) for doc in await self._find(self._webhooks, query)]

    async def delete_webhook(self, webhook_id: str) -> None:
        with _translated():
            await self._deliveries.delete_many({"webhook_id": webhook_id})
            await self._webhooks.delete_one({"_id": webhook_id})

    async def insert_deliveries(self, deliveries: Sequence[Delivery]) -> None:
        if not deliveries:
            return
        with _translated():
            await self._deliveries.bulk_write(
                [ReplaceOne({"_id": doc["_id"]}, doc, upsert=True) for doc in map(d.delivery_doc, deliveries)],
                ordered=True)

    async def save_delivery(self, delivery: Delivery) -> None:
        doc = d.delivery_doc(delivery)
        with _translated():
            await self._deliveries.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    async def list_deliveries(self, webhook_id: str, after_seq: int = 0, limit: int = 100, *,
                              undelivered: bool = False) -> list[Delivery]:
        query: Doc = {"webhook_id": webhook_id, "seq": {"$gt": after_seq}}
        if undelivered:
            query["status"] = {"$ne": DeliveryStatus.DELIVERED.value}
        with _translated():
            cursor = self._deliveries.find(query).sort("seq", ASCENDING).limit(limit)
            return [d.delivery_from(doc) async for doc in cursor]

    async def recent_deliveries(self, webhook_id: str, before_seq: int | None = None,
                                limit: int = 50) -> list[Delivery]:
        query: Doc = {"webhook_id": webhook_id}
        if before_seq is not None:
            query["seq"] = {"$lt": before_seq}
        with _translated():
            cursor = self._deliveries.find(query).sort("seq", DESCENDING).limit(limit)
            return [d.delivery_from(doc) async for doc in cursor]

    async def reset_deliveries(self, webhook_id: str, from_seq: int) -> int:
        with _translated():
            result = await self._deliveries.update_many(
                {"webhook_id": webhook_id, "seq": {"$gt": from_seq - 1}},
                {"$set": {"status": DeliveryStatus.PENDING.value, "attempts": 0}})
        return result.matched_count  # modified_count leaves out the rows that were pending already
