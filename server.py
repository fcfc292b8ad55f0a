"""livebracket's composition root: read the config, build the services, serve, stop cleanly.

    python server.py [--port 8888] [--store embedded|mongo|memory] ...   serve
    python server.py token --user ID --name NAME --role ROLE [--ttl 12h]  print a token
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import errno
import gc
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from tornado.ioloop import IOLoop
from tornado.netutil import bind_sockets

from config import (Config, ConfigError, add_server_arguments, config_from_args, parse_duration_s,
                    secret_source, with_jwt_secret)
from handlers import http_server
from handlers.app import make_app, scrub_logs
from handlers.services import Services
from handlers.webhook_post import ThisServer, TornadoPost
from realtime.broker import RedisBroker
from realtime.leases import RedisLease
from realtime.mailbox import NodeMailbox
from realtime.scorequeue import RedisScoreQueue
from realtime.webhookqueue import RedisWebhookQueue
from realtime.counters import RedisCounts
from realtime.heartbeat import Heartbeat
from realtime.hub import Hub
from realtime.limits import ConnectionCounter, Limits, RateLimiter, SharedCounts
from realtime.protocol import CloseCode
from realtime.lobby import Lobby
from realtime.session import LobbyRoom, MatchRoom, SessionContext, SessionSettings, TournamentRoom
from realtime.storewatch import StoreWatch
from storage.embedded import EmbeddedMongo
from storage.memory import MemoryStore
from storage.mongo import MongoStore
from storage.timed import TimedStore
from tournament.bracket_service import BracketService
from tournament.chat import ChatService
from tournament.disqualify import DisqualifyService
from tournament.draws import DrawService
from tournament.events import Fanout, Publisher
from tournament.links import LinkService
from tournament.locks import KeyedLocks
from tournament.matches import MatchService
from tournament.outbox import WebhookOutbox
from tournament.models import TournamentState
from tournament.participants import ParticipantService
from tournament.registration import RegistrationService
from tournament.roles import ROLE_NAMES, Role
from tournament.stations import CallBell, StationService
from tournament.teams import Rosters, TeamService
from tournament.scores import Batcher, Write
from tournament.sharedoutbox import SharedWebhookOutbox
from tournament.sharedscores import SharedScoreBatcher
from tournament.store import Store, StorageError, StorageUnavailableError
from tournament.tokens import TokenCodec
from tournament.tasks import stop_tasks
from tournament.tournaments import TournamentService
from tournament.webhooks import WebhookService
from tournament.writer import MatchWriter

log = logging.getLogger("livebracket")

STORE_RETRY_S = 5.0
SETTLE_PAGE = 100  # tournaments read at a time when settling at start-up


async def open_store(config: Config, embedded: EmbeddedMongo | None) -> Store:
    """The configured store; for the embedded one, `embedded` started first.

    Raises StorageUnavailableError when the embedded server cannot start.
    """
    if config.store == "memory":
        return MemoryStore()
    if config.store == "mongo":
        assert config.mongo_url
        return MongoStore(config.mongo_url, config.db_name, config.store_timeout_s)
    assert embedded is not None
    return MongoStore(await embedded.start(), config.db_name, config.store_timeout_s)


# Connections the kernel holds until they are accepted (Tornado's default is 128): a venue's
# screens reconnecting at once after a Wi-Fi blip must not lose their SYNs (a 1 s retry each)
LISTEN_BACKLOG = 4096
# The cyclic collector's thresholds (CPython's are 700, 10, 10). A full collection walks every
# open socket's objects, 0.2-0.4 s at 2,000 sockets; with the defaults, a reconnect storm runs
# several (docs/performance.md "Reconnect storm"): a middle collection every million allocations
# and a full one every hundred of those make it rare. The young generation is kept at 10,000: a
# young collection walks all of it, 12-20 ms at 50,000 (the LAN day's p99; docs/performance.md
# "LAN day"). The memory it costs is freed later.
GC_THRESHOLD = (10_000, 100, 100)


def bind(config: Config) -> list[socket.socket]:
    """The listening sockets, bound before anything starts. Raises ConfigError (one line)
    when the address is in use or cannot be bound."""
    try:
        return bind_sockets(config.port, address=config.host, backlog=LISTEN_BACKLOG)
    except OSError as e:
        where = f"{config.host}:{config.port}"
        if e.errno == errno.EADDRINUSE:
            raise ConfigError(f"{where} is already in use: stop what listens there or choose another "
                              "--port") from None
        raise ConfigError(f"cannot listen on {where}: {e.strerror} (check --host and --port)") from None


def build_limits(config: Config, clock: Callable[[], float], sockets: ConnectionCounter,
                 shared: SharedCounts | None) -> Limits:
    return Limits(
        messages_by_user=RateLimiter(config.message_rate_per_user, config.message_burst_per_user, clock),
        messages_by_ip=RateLimiter(config.message_rate_per_ip, config.message_burst_per_ip, clock),
        writes_by_user=RateLimiter(config.write_rate_per_user, config.write_burst_per_user, clock),
        sockets=sockets, tournament_room_max=config.tournament_room_max, shared=shared,
    )


def build_outbox(config: Config, store: Store, loop: IOLoop, clock: Callable[[], float],
                 mailbox: NodeMailbox | None, leases: RedisLease | None) -> WebhookOutbox:
    """The webhooks' outbox; with a broker numbered and sent by each tournament's lease holder,
    from a queue in Redis every node appends to."""
    if mailbox is None or leases is None:
        return WebhookOutbox(store, TornadoPost(), loop, clock, max_attempts=config.webhook_attempts,
                             retry_base_s=config.webhook_retry_base_s, retry_cap_s=config.webhook_retry_cap_s,
                             timeout_s=config.webhook_timeout_s)
    return SharedWebhookOutbox(store, TornadoPost(), loop, leases, RedisWebhookQueue(mailbox, leases), clock,
                               max_attempts=config.webhook_attempts, retry_base_s=config.webhook_retry_base_s,
                               retry_cap_s=config.webhook_retry_cap_s, timeout_s=config.webhook_timeout_s)


def build_services(config: Config, store: Store, publisher: Publisher | None = None,
                   clock: Callable[[], float] = time.time) -> Services:
    """Build the services on the current IOLoop, in dependency order (tests build theirs
    through this too). Events go to the hub, and also to `publisher` when one is given."""
    loop = IOLoop.current()
    timed = TimedStore(store)
    # Many nodes: rooms go through Redis (started by serve()), matches' logs read from the store.
    broker = (RedisBroker(config.broker_url, timed, history_frames=config.history_frames)
              if config.broker_url else None)
    # this node's open sockets, exact; with a broker also summed with the other nodes' in Redis
    open_sockets = ConnectionCounter(config.sockets_per_user, config.sockets_per_ip,
                                     per_spectator=config.sockets_per_spectator_token)
    counts = (RedisCounts(config.broker_url, open_sockets, node=broker.node, ttl_s=config.counts_ttl_s)
              if config.broker_url and broker else None)
    hub = Hub(loop, history_frames=config.history_frames, history_rooms=config.history_rooms,
              room_idle_s=config.room_idle_s, broker=broker, scores_window_s=config.scores_window_s,
              census=counts)
    lobby = Lobby(hub, loop, clock, tally=counts.watchers if counts is not None else None)
    bell = CallBell()  # tells the stations which tournaments' queues may have moved
    rosters = Rosters(timed, clock)  # who may act for each team, kept true by the events
    # Many nodes: this node's name and Redis channel, and the leases on it (started by serve())
    mailbox = NodeMailbox(config.broker_url) if config.broker_url else None
    leases = RedisLease(mailbox, config.lease_ttl_s) if mailbox is not None else None
    outbox = build_outbox(config, timed, loop, clock, mailbox, leases)  # the webhooks' deliveries, after their commit
    events: Publisher = (Fanout(hub, lobby, bell, rosters, outbox) if publisher is None
                         else Fanout(hub, lobby, bell, rosters, outbox, publisher))
    writer = MatchWriter(timed, events, clock)
    tournament_locks = KeyedLocks()  # registration and bracket changes of one tournament take turns
    brackets = BracketService(timed, writer, events, clock, tournament_locks, config.snapshot_matches_max)
    # Many nodes: a match's live scores are batched by the node holding its lease
    score_queue = RedisScoreQueue(mailbox, leases) if mailbox is not None and leases is not None else None

    def shared_batcher(write: Write) -> Batcher:
        assert leases is not None and score_queue is not None
        return SharedScoreBatcher(write, timed.get_match, loop, leases, score_queue, config.batch_window_s)

    matches = MatchService(timed, writer, brackets, loop, clock, config.batch_window_s, acting=rosters,
                           batcher=shared_batcher if score_queue is not None else None,
                           # a tournament room's scores_updated right after each window's scores are written
                           scores_written=hub.flush_scores if config.tournament_window_s is None else None)
    disqualify = DisqualifyService(timed, brackets, matches)
    stations = StationService(timed, writer, matches, events, loop, bell, clock, tournament_locks)
    tournaments = TournamentService(timed, clock, tournament_locks, events)
    participants = ParticipantService(timed, clock, tournament_locks, events)
    teams = TeamService(timed, clock, tournament_locks, events)
    chat = ChatService(timed, writer, clock)
    draws = DrawService(timed, events, clock, tournament_locks)
    tokens = TokenCodec(config.jwt_secret, clock)
    links = LinkService(timed, tokens, clock, tournament_locks, rosters)
    registration = RegistrationService(timed, links, clock, tournament_locks, events)
    webhooks = WebhookService(timed, outbox, ThisServer(config.port, config.public_url), clock)
    heartbeat = Heartbeat(loop, clock, config.ping_interval_s)
    limits = build_limits(config, clock, open_sockets, counts)
    sockets = SessionContext(
        hub=hub, heartbeat=heartbeat, limits=limits, tokens=tokens, matches=matches, chat=chat, links=links,
        clock=clock,
        rooms={"match": MatchRoom(matches, chat),
               "tournament": TournamentRoom(tournaments, matches, config.snapshot_matches_max, stations.welcome_queue),
               "lobby": LobbyRoom(lobby, tournaments)},
        settings=SessionSettings(allowed_origins=config.allowed_origins, trusted_proxies=config.trusted_proxies,
                                 max_frame_bytes=config.max_frame_bytes,
                                 heartbeat_interval_s=config.ping_interval_s,
                                 flood_limit=2 * config.message_burst_per_user))
    return Services(
        config=config, store=timed, store_stats=timed.stats, tokens=tokens, tournaments=tournaments,
        participants=participants, teams=teams,
        matches=matches, brackets=brackets, disqualify=disqualify, stations=stations,
        links=links, registration=registration, draws=draws, webhooks=webhooks, outbox=outbox, hub=hub, heartbeat=heartbeat, limits=limits,
        store_watch=StoreWatch(timed.ping, hub, loop, config.store_ping_interval_s), lobby=lobby, sockets=sockets,
        clock=clock, broker=broker, counts=counts, mailbox=mailbox)


async def shutdown(services: Services, drain_s: float = 2.0) -> None:
    """Refuse further moves (shutting_down), write waiting scores and wait for the match writes
    under way, close every socket with 1001 and give the close frames time to go (the store is
    closed after this)."""
    services.heartbeat.stop()
    services.store_watch.stop()
    services.lobby.stop()
    await services.stations.close()
    await services.matches.close()
    await services.outbox.close()  # after the last events: the scores just written are queued too
    if services.broker is not None:
        await services.broker.flush()  # the other nodes' sockets get the last events too
    services.hub.close_all(CloseCode.GOING_AWAY, "server shutting down")
    deadline = time.monotonic() + drain_s
    while len(services.heartbeat) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)  # sockets report on_close as their close handshakes end
    if services.counts is not None:
        await services.counts.close()  # this node's counts out of Redis now, not at their expiry
    if services.mailbox is not None:
        await services.mailbox.close()  # after the last batch: the leases' messages end here
    if services.broker is not None:
        await services.broker.close()


async def prepare_store(store: Store, config: Config, clock: Callable[[], float] = time.time) -> None:
    """Create indexes and forget old idempotency keys. Raises StorageError."""
    await store.setup()
    await store.purge_idempotency_keys(clock() - config.idempotency_ttl_s)


async def settle_brackets(services: Services) -> None:
    """Finish any advancement and deletion a crash interrupted (both are idempotent), and arm the timers
    of the vetoes and station check-ins under way, in every tournament (a page at a time,
    newest first); then fill their free stations."""
    before: tuple[float, str] | None = None
    while page := await services.store.list_tournaments(limit=SETTLE_PAGE, before=before):
        for tournament in page:
            if tournament.deleting:  # a delete a crash cut off
                await services.tournaments.finish_deletion(tournament.id)
                continue
            if tournament.state == TournamentState.LIVE:
                await services.brackets.settle(tournament.id)
            if tournament.state in (TournamentState.LIVE, TournamentState.REGISTRATION, TournamentState.DRAFT):
                await services.matches.resume_vetoes(tournament.id)
                if tournament.stations:  # only a tournament with stations has calls to re-arm
                    await services.stations.resume(tournament.id)
        before = (page[-1].created_at, page[-1].id)


async def _prepare_when_reachable(store: Store, config: Config, services: Services) -> None:
    """Prepare the store once it answers, then settle what a crash may have left (as a start
    with the store reachable does)."""
    while True:
        try:
            await prepare_store(store, config)
            log.info("store reachable again")
            break
        except StorageUnavailableError:
            await asyncio.sleep(STORE_RETRY_S)
    await settle_brackets(services)


async def serve(config: Config) -> None:
    """Run until SIGINT or SIGTERM, then stop in order: refuse further moves, write waiting
    scores, close sockets (1001), close the store, stop the embedded store's process.

    Raises ConfigError or StorageError when it cannot start (nothing is left running then).
    """
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # before anything starts: a signal now stops it cleanly
        loop.add_signal_handler(sig, stopped.set)
    listening = bind(config)
    config = dataclasses.replace(config, port=listening[0].getsockname()[1])  # --port 0: the one bound
    embedded = EmbeddedMongo(config.data_dir) if config.store == "embedded" else None
    retry: asyncio.Task[None] | None = None
    supervisor: asyncio.Task[None] | None = None
    store: Store | None = None
    broker: RedisBroker | None = None
    counts: RedisCounts | None = None
    mailbox: NodeMailbox | None = None
    try:
        store = await open_store(config, embedded)
        reachable = True
        try:
            await prepare_store(store, config)
        except StorageUnavailableError:
            log.warning("the store is unreachable: answering 503 until it is back")
            reachable = False
        services = build_services(config, store)
        if services.broker is not None:  # unreachable: refuse to start (BrokerUnavailableError)
            broker = services.broker
            await broker.start()
        if services.counts is not None:
            counts = services.counts
            await counts.start()
        if services.mailbox is not None:  # before any score: the other nodes reach this one on it
            mailbox = services.mailbox
            await mailbox.start()
        if reachable:
            await settle_brackets(services)
        else:
            retry = asyncio.create_task(_prepare_when_reachable(store, config, services))
        if embedded is not None:
            supervisor = asyncio.create_task(embedded.supervise(services.store_watch.check))
        services.heartbeat.start()
        services.lobby.start()
        services.stations.start()
        services.outbox.start()
        services.store_watch.start()
        server = http_server.listen(make_app(services), config, listening)
        gc.set_threshold(*GC_THRESHOLD)
        token, _ = services.tokens.issue("organizer", "Organizer", Role.ORGANIZER, config.token_ttl_s)
        print(f"livebracket serving {config.public_url} (store: {config.store}, loop: {config.event_loop}"
              f"{', broker: ' + broker.url if broker else ''})", flush=True)
        print(f"organizer token: {token}", flush=True)
        await stopped.wait()
        log.info("shutting down")
        server.stop()  # no new connections
        await shutdown(services)
        await server.close_all_connections()
    finally:
        # the supervisor stopped first: it must not start the store again
        await stop_tasks(task for task in (retry, supervisor) if task is not None)
        if counts is not None:
            await counts.close()  # done already after a shutdown; not when start-up failed
        if mailbox is not None:
            await mailbox.close()  # likewise
        if broker is not None:
            await broker.close()  # done already after a shutdown; not when start-up failed
        for sock in listening:  # already closed once served; not when start-up failed
            sock.close()
        if store is not None:
            await store.close()
        if embedded is not None:
            await embedded.stop()


def _token_command(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="server.py token", description="Print a signed token.")
    parser.add_argument("--user", required=True, help="user id (a participant's id for players)")
    parser.add_argument("--name", help="display name (default: the user id)")
    parser.add_argument("--role", default="spectator", choices=ROLE_NAMES)
    parser.add_argument("--ttl", default="12h", help="lifetime, e.g. 90m, 12h, 7d")
    add_server_arguments(parser, os.environ)
    args = parser.parse_args(argv)
    config = with_jwt_secret(config_from_args(args))
    codec = TokenCodec(config.jwt_secret)
    token, _ = codec.issue(args.user, args.name or args.user, Role.parse(args.role),
                           parse_duration_s(args.ttl))
    print(token)
    print(f"livebracket: signed with {secret_source(config, args.jwt_secret)}", file=sys.stderr)
    return 0


def run_loop(config: Config, main: Coroutine[Any, Any, None]) -> None:
    """Run `main` on the event loop `config.event_loop` names: uvloop, or asyncio's own."""
    if config.event_loop == "uvloop":
        import uvloop  # installed where it runs (config_from_args checked)

        uvloop.run(main)
    else:
        asyncio.run(main)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    scrub_logs()  # no token in any log line, tracebacks included
    try:
        if argv[:1] == ["token"]:
            return _token_command(argv[1:])
        parser = argparse.ArgumentParser(prog="server.py", description=__doc__,
                                         formatter_class=argparse.RawDescriptionHelpFormatter)
        add_server_arguments(parser, os.environ)
        config = with_jwt_secret(config_from_args(parser.parse_args(argv)))
        run_loop(config, serve(config))
    except (ConfigError, StorageError) as e:
        print(f"livebracket: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
