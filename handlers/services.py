"""Services: the one typed container every handler gets (built in the composition root)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from config import Config
from realtime.broker import RedisBroker
from realtime.counters import RedisCounts
from realtime.heartbeat import Heartbeat
from realtime.hub import Hub
from realtime.limits import Limits
from realtime.lobby import Lobby
from realtime.mailbox import NodeMailbox
from realtime.session import SessionContext
from realtime.storewatch import StoreWatch
from storage.timed import StoreStats
from tournament.bracket_service import BracketService
from tournament.disqualify import DisqualifyService
from tournament.draws import DrawService
from tournament.links import LinkService
from tournament.matches import MatchService
from tournament.outbox import WebhookOutbox
from tournament.participants import ParticipantService
from tournament.registration import RegistrationService
from tournament.stations import StationService
from tournament.store import Store
from tournament.teams import TeamService
from tournament.tokens import TokenCodec
from tournament.tournaments import TournamentService
from tournament.webhooks import WebhookService


@dataclasses.dataclass(frozen=True)
class Services:
    """Everything a handler may use, handed to each handler's initialize()."""

    config: Config
    store: Store
    store_stats: StoreStats
    tokens: TokenCodec
    tournaments: TournamentService
    participants: ParticipantService
    teams: TeamService
    matches: MatchService
    brackets: BracketService
    disqualify: DisqualifyService
    stations: StationService
    links: LinkService
    registration: RegistrationService
    draws: DrawService
    webhooks: WebhookService
    outbox: WebhookOutbox
    hub: Hub
    heartbeat: Heartbeat
    limits: Limits
    store_watch: StoreWatch
    lobby: Lobby
    sockets: SessionContext
    clock: Callable[[], float]
    broker: RedisBroker | None = None  # --broker: the rooms shared with other nodes through Redis
    counts: RedisCounts | None = None  # --broker: the socket counts shared with other nodes
    mailbox: NodeMailbox | None = None  # --broker: the leases' Redis client and this node's channel
