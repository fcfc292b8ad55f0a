"""Configuration: one frozen dataclass, read once from the command line and the environment."""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import ipaddress
import os
import secrets
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ENV_PREFIX = "LIVEBRACKET_"
STORES = ("embedded", "mongo", "memory")
# The event loop the server runs on. uvloop where it is installed (not on Windows): the same
# Tornado, a third less of the core in the LAN day's REST and socket work (docs/performance.md).
EVENT_LOOPS = ("uvloop", "asyncio")


def default_event_loop() -> str:
    """uvloop where it is installed, asyncio's own loop otherwise."""
    return "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"

JWT_SECRET_FILE = "jwt-secret"
JWT_SECRET_MIN_CHARS = 32
# data/ beside this file: the server and `server.py token` find the same one from any folder.
DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "data"


class ConfigError(Exception):
    """A setting is missing or malformed; the message says which and why."""


@dataclasses.dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8888
    store: str = "embedded"
    event_loop: str = dataclasses.field(default_factory=default_event_loop)  # EVENT_LOOPS
    mongo_url: str | None = None
    db_name: str = "livebracket"
    data_dir: Path = DEFAULT_DATA_DIR
    # redis://HOST:PORT/DB: many nodes share their rooms through it (None: this process alone).
    # Out of repr: the URL may carry a password.
    broker_url: str | None = dataclasses.field(default=None, repr=False)
    # With a broker: a node's socket counts in Redis outlive its last heartbeat (every third of
    # this) by this much, so a node killed stops counting against the limits after it
    counts_ttl_s: float = 15.0
    # With a broker: a match's score batch (and a tournament's webhooks) are kept by the node
    # holding their lease; a dead holder's lease is free this long after its last renewal
    lease_ttl_s: float = 3.0
    jwt_secret: str = dataclasses.field(default="", repr=False)
    token_ttl_s: int = 12 * 3600
    max_body_bytes: int = 64 * 1024
    store_timeout_s: float = 2.0
    store_ping_interval_s: float = 2.0  # how often sockets' store_status is checked
    idempotency_ttl_s: int = 24 * 3600  # how long an Idempotency-Key's answer is replayed
    idempotency_claim_s: float = 30.0  # a key still pending this long was cut off: a retry takes it over
    history_frames: int = 512  # recent frames kept per room for ?since= recovery
    history_rooms: int = 1024  # empty rooms whose history is kept (least recently used go)
    # A tournament's welcome and its bracket events carry every match up to this many; past it,
    # only a summary (and the matches in play), and pages read the rest over REST.
    snapshot_matches_max: int = 512
    room_idle_s: float = 600.0  # an empty room unused this long is forgotten (its history with it)
    batch_window_s: float = 0.1
    # A tournament room's live scores within this window are one frame (None: batch_window_s;
    # 0: one frame per score event, as match rooms have)
    tournament_window_s: float | None = None
    ping_interval_s: float = 25.0
    max_frame_bytes: int = 16 * 1024  # client frames over it: error, then 4008
    max_message_bytes: int = 1024 * 1024  # client frames over it are dropped unread by Tornado (1009)
    max_pending_bytes: int = 1024 * 1024  # unsent output per socket before it is dropped
    max_pending_frames: int = 2000  # frames written since the socket's buffer last drained
    allowed_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    # Rates are per second; bursts are how many may come at once.
    message_rate_per_user: float = 10.0
    message_burst_per_user: int = 20
    message_rate_per_ip: float = 20.0
    message_burst_per_ip: int = 40
    write_rate_per_user: float = 10.0  # REST writes
    write_burst_per_user: int = 20
    # A production PC holds 20 or more pages and browser sources under one organizer token;
    # these bound abuse by one token or one address far above what a venue reaches.
    sockets_per_user: int = 64
    sockets_per_spectator_token: int = 500  # one spectator link, shown as a QR code to a crowd
    sockets_per_ip: int = 256
    tournament_room_max: int = 2000
    # Connections, bounded before any request is read (handlers/http_server.py). A venue behind
    # one NAT address holds its sockets_per_ip sockets and each browser's HTTP connections.
    connections_per_ip: int = 1024  # open TCP connections, WebSockets included; past it: closed at once
    reserved_fds: int = 128  # descriptors kept for the store, files and logs; past the rest: closed at once
    header_timeout_s: float = 10.0  # a request head must arrive this soon after connecting or the last response
    body_timeout_s: float = 60.0  # a request body must arrive this soon after its head
    max_header_bytes: int = 16 * 1024  # request line and headers; over it: 431, then closed
    # Webhooks: a delivery is tried this many times, waiting base, 2 base, 4 base ... (at most
    # the cap) between tries, then its webhook pauses until a replay; each POST gets timeout_s.
    webhook_attempts: int = 10
    webhook_retry_base_s: float = 1.0
    webhook_retry_cap_s: float = 300.0
    webhook_timeout_s: float = 10.0

    @property
    def scores_window_s(self) -> float:
        """How long a tournament room's live scores wait to go out as one frame."""
        return self.batch_window_s if self.tournament_window_s is None else self.tournament_window_s

    @property
    def public_url(self) -> str:
        host = "localhost" if self.host in ("0.0.0.0", "127.0.0.1", "::") else self.host
        return f"http://{host}:{self.port}"


def parse_duration_s(text: str) -> int:
    """Parse `90`, `90s`, `15m`, `12h` or `7d` into whole seconds.

    Raises ConfigError for anything else or for a duration that is not positive.
    """
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = text.strip().lower()
    scale = units.get(text[-1:], None)
    number = text[:-1] if scale else text
    try:
        value = int(number) * (scale or 1)
    except ValueError:
        raise ConfigError(f"not a duration: {text!r} (use e.g. 90s, 15m, 12h, 7d)") from None
    if value <= 0:
        raise ConfigError(f"duration must be positive: {text!r}")
    return value


def add_server_arguments(parser: argparse.ArgumentParser, environ: Mapping[str, str]) -> None:
    """Declare every server option; each defaults to its LIVEBRACKET_* variable."""

    def env(name: str, default: str | None = None) -> str | None:
        return environ.get(ENV_PREFIX + name, default)

    parser.add_argument("--host", default=env("HOST", Config.host), help="address to listen on")
    parser.add_argument("--port", default=env("PORT", str(Config.port)), help="port to listen on")
    parser.add_argument("--store", default=env("STORE"), choices=STORES,
                        help="embedded (default), mongo (needs --mongo-url) or memory")
    parser.add_argument("--mongo-url", default=env("MONGO_URL"), help="mongodb:// URL of a real MongoDB")
    parser.add_argument("--event-loop", default=env("EVENT_LOOP"), choices=EVENT_LOOPS,
                        help="uvloop (the default where it is installed) or asyncio")
    parser.add_argument("--broker", default=env("BROKER"),
                        help="redis://HOST:PORT/DB of the Redis that carries the rooms between "
                             "several livebracket processes (default: none, one process)")
    parser.add_argument("--counts-ttl-s", default=env("COUNTS_TTL_S", str(Config.counts_ttl_s)),
                        help="with --broker: how long a node's socket counts outlive it in Redis (seconds)")
    parser.add_argument("--db-name", default=env("DB_NAME", Config.db_name), help="database name")
    parser.add_argument("--data-dir", default=env("DATA_DIR", str(Config.data_dir)),
                        help="folder for the embedded database, its logs and the JWT secret "
                             "(default: data/ in the checkout, beside server.py)")
    parser.add_argument("--jwt-secret", default=env("JWT_SECRET"),
                        help="HS256 secret (default: generated once, kept in the data dir)")
    parser.add_argument("--token-ttl", default=env("TOKEN_TTL", "12h"),
                        help="lifetime of tokens the server mints (e.g. 12h)")
    parser.add_argument("--batch-window-s", default=env("BATCH_WINDOW_S", str(Config.batch_window_s)),
                        help="how long live score updates are coalesced per match (seconds)")
    parser.add_argument("--tournament-window-s", default=env("TOURNAMENT_WINDOW_S", ""),
                        help="how long a tournament room's live scores are coalesced into one frame "
                             "(seconds; default: the batch window; 0: a frame per score)")
    parser.add_argument("--ping-interval-s", default=env("PING_INTERVAL_S", str(Config.ping_interval_s)),
                        help="heartbeat ping interval of sockets (seconds); silent for 2 is closed")
    parser.add_argument("--allowed-origins", default=env("ALLOWED_ORIGINS", ""),
                        help="comma-separated browser origins allowed on sockets besides this "
                             "server's own and localhost")
    parser.add_argument("--trusted-proxies", default=env("TRUSTED_PROXIES", ""),
                        help="comma-separated proxy addresses or networks whose X-Forwarded-For "
                             "is believed")
    parser.add_argument("--limits", default=env("LIMITS", ""),
                        help="override limits, e.g. 'sockets_per_user=10,message_rate_per_user=20' "
                             f"(names: {', '.join(LIMIT_NAMES)})")


def config_from_args(args: argparse.Namespace) -> Config:
    """Build the Config from parsed arguments. Raises ConfigError on bad values."""
    try:
        port = int(args.port)
    except ValueError:
        raise ConfigError(f"--port must be a number, not {args.port!r}") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, not {port}")
    store = args.store or ("mongo" if args.mongo_url else "embedded")
    if store not in STORES:  # argparse checks choices only on the command line, not env defaults
        raise ConfigError(f"store must be one of {', '.join(STORES)}, not {store!r}")
    if store == "mongo" and not args.mongo_url:
        raise ConfigError("--store mongo needs --mongo-url (or LIVEBRACKET_MONGO_URL)")
    if args.mongo_url and not args.mongo_url.startswith(("mongodb://", "mongodb+srv://")):
        raise ConfigError("--mongo-url must start with mongodb:// or mongodb+srv://")
    event_loop = args.event_loop or default_event_loop()
    if event_loop not in EVENT_LOOPS:
        raise ConfigError(f"event loop must be one of {', '.join(EVENT_LOOPS)}, not {event_loop!r}")
    if event_loop == "uvloop" and not importlib.util.find_spec("uvloop"):
        raise ConfigError("--event-loop uvloop: uvloop is not installed (pip install uvloop), "
                          "or use --event-loop asyncio")
    data_dir = Path(args.data_dir)
    broker_url = parse_broker_url(args.broker) if args.broker else None
    if args.jwt_secret and len(args.jwt_secret) < JWT_SECRET_MIN_CHARS:
        raise ConfigError(f"--jwt-secret (or LIVEBRACKET_JWT_SECRET) must be at least {JWT_SECRET_MIN_CHARS} "
                          f"characters, not {len(args.jwt_secret)}")
    batch_window_s = _seconds(args.batch_window_s, "--batch-window-s", 0.0, 10.0)
    ping_interval_s = _seconds(args.ping_interval_s, "--ping-interval-s", 0.1, 3600.0)
    counts_ttl_s = _seconds(args.counts_ttl_s, "--counts-ttl-s", 0.3, 3600.0)
    tournament_window_s = (_seconds(args.tournament_window_s, "--tournament-window-s", 0.0, 10.0)
                           if args.tournament_window_s.strip() else None)
    origins = tuple(o.strip().rstrip("/") for o in args.allowed_origins.split(",") if o.strip())
    proxies = tuple(p.strip() for p in args.trusted_proxies.split(",") if p.strip())
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ConfigError(f"--trusted-proxies: {proxy!r} is not an address or network") from None
    return Config(
        host=args.host,
        port=port,
        store=store,
        event_loop=event_loop,
        mongo_url=args.mongo_url if store == "mongo" else None,
        db_name=args.db_name,
        data_dir=data_dir,
        broker_url=broker_url,
        counts_ttl_s=counts_ttl_s,
        jwt_secret=args.jwt_secret or "",
        token_ttl_s=parse_duration_s(args.token_ttl),
        batch_window_s=batch_window_s,
        tournament_window_s=tournament_window_s,
        ping_interval_s=ping_interval_s,
        allowed_origins=origins,
        trusted_proxies=proxies,
        **parse_limits(args.limits),
    )


def parse_broker_url(text: str) -> str:
    """A `redis://[:password@]HOST[:PORT][/DB]` URL, as given. Raises ConfigError for anything
    else (the message never repeats a password)."""
    parts = urllib.parse.urlsplit(text.strip())
    if parts.scheme != "redis":
        raise ConfigError("--broker (or LIVEBRACKET_BROKER) must be a redis://HOST:PORT/DB URL")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError("--broker: the port must be a number between 0 and 65535") from None
    if not parts.hostname or port == 0:
        raise ConfigError("--broker: name the host, e.g. redis://127.0.0.1:6379/0")
    if parts.path not in ("", "/") and not parts.path[1:].isdigit():
        raise ConfigError("--broker: the database after the host must be a number, e.g. /0")
    if parts.query or parts.fragment:
        raise ConfigError("--broker: no ?options or #fragment, only redis://HOST:PORT/DB")
    return text.strip()


LIMIT_NAMES = ("message_rate_per_user", "message_burst_per_user", "message_rate_per_ip",
               "message_burst_per_ip", "write_rate_per_user", "write_burst_per_user",
               "sockets_per_user", "sockets_per_spectator_token", "sockets_per_ip",
               "tournament_room_max", "max_frame_bytes",
               "max_pending_bytes", "max_pending_frames", "max_body_bytes",
               "connections_per_ip", "reserved_fds", "header_timeout_s", "body_timeout_s",
               "max_header_bytes", "webhook_attempts", "webhook_retry_base_s", "webhook_retry_cap_s",
               "webhook_timeout_s", "lease_ttl_s")


def parse_limits(text: str) -> dict[str, Any]:
    """`name=value,...` for the limits in LIMIT_NAMES. Raises ConfigError."""
    limits: dict[str, Any] = {}
    for item in (i.strip() for i in text.split(",") if i.strip()):
        name, _, raw = item.partition("=")
        name = name.strip()
        if name not in LIMIT_NAMES:
            raise ConfigError(f"--limits: unknown limit {name!r} (known: {', '.join(LIMIT_NAMES)})")
        kind = type(getattr(Config, name))
        try:
            value = kind(raw.strip())
        except ValueError:
            raise ConfigError(f"--limits: {name} must be a number, not {raw!r}") from None
        if value <= 0:
            raise ConfigError(f"--limits: {name} must be positive")
        limits[name] = value
    return limits


def _seconds(text: str, option: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{option} must be a number of seconds, not {text!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{option} must be between {low} and {high} seconds")
    return value


def load_config(argv: Sequence[str], environ: Mapping[str, str] = os.environ) -> Config:
    """Parse server options from argv and environ. Raises ConfigError on bad values."""
    parser = argparse.ArgumentParser(prog="server.py")
    add_server_arguments(parser, environ)
    return config_from_args(parser.parse_args(argv))


def with_jwt_secret(config: Config) -> Config:
    """Return config with a JWT secret: the given one, or one kept in the data dir.

    The kept secret is generated on first use and written with mode 0600, so tokens
    survive a restart. Raises ConfigError when the data dir cannot be written.
    """
    if config.jwt_secret:
        return config
    path = config.data_dir / JWT_SECRET_FILE
    try:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
        secret = path.read_text().strip()
    except OSError as e:
        raise ConfigError(f"cannot keep the JWT secret in {path}: {e.strerror}") from e
    if len(secret) < JWT_SECRET_MIN_CHARS:
        raise ConfigError(f"the JWT secret in {path} is shorter than {JWT_SECRET_MIN_CHARS} characters: "
                          "delete the file to make a new one")
    return dataclasses.replace(config, jwt_secret=secret)


def secret_source(config: Config, given: str | None) -> str:
    """Where the JWT secret of `config` came from, in words (never the secret itself)."""
    if given:
        return "the secret given by --jwt-secret or LIVEBRACKET_JWT_SECRET"
    return f"the secret kept in {config.data_dir / JWT_SECRET_FILE}"
