"""livebracket's pytest plugin: options and fixtures only (docs/testing.md). Loading it starts
nothing; the server starts when a test first asks for a fixture that needs it."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from pytest_livebracket.live import STORES, Api, LiveServer, Tournament, make_tournament as create, start_server
from pytest_livebracket.loop import LoopThread
from pytest_livebracket.server import HOME_ENV, HomeNotFoundError, find_home
from pytest_livebracket.sockets import SocketFactory
from pytest_livebracket.webhooks import WebhookSink

DEFAULT_TIMEOUT_S = 10.0
# The plugin's two names: its entry point's (auto-loading, `-p livebracket`) and its module's
# (`pytest_plugins = ["pytest_livebracket.plugin"]`, `-p pytest_livebracket.plugin`).
NAMES = ("livebracket", __name__)


class NameHolder:
    """Holds a name of the plugin that it was not registered under."""


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    # pytest refuses to register one module under two names, and each way of enabling the plugin
    # uses one of them: registered under one, the plugin holds the other, so the ways that come
    # later (auto-loading, -p, a listing) find it loaded. This runs as the plugin is registered.
    for name in NAMES:
        if pluginmanager.get_plugin(name) is None and not pluginmanager.is_blocked(name):
            pluginmanager.register(NameHolder(), name)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("livebracket", "livebracket server (pytest_livebracket)")
    group.addoption("--livebracket-home", metavar="DIR",
                    help=f"the livebracket checkout to run (the folder of server.py); else the ini value "
                         f"livebracket_home, {HOME_ENV}, or the checkout livebracket was installed from")
    group.addoption("--livebracket-store", choices=STORES,
                    help="store of the `livebracket` server: memory (default), embedded, or mongo")
    group.addoption("--livebracket-mongo-url", metavar="URL",
                    help="mongodb:// URL for the mongo store (implies --livebracket-store mongo); each "
                         "server gets a database of its own, dropped after")
    group.addoption("--livebracket-timeout", type=float, metavar="SECONDS",
                    help=f"default deadline of each wait for a frame or a delivery (default {DEFAULT_TIMEOUT_S:g})")
    group.addoption("--livebracket-server-arg", action="append", default=[], metavar="ARG",
                    help="one more server.py argument, after the plugin's own (repeatable), e.g. "
                         "--livebracket-server-arg=--ping-interval-s=5")
    parser.addini("livebracket_home", "the livebracket checkout to run (relative to the ini file)", default="")
    parser.addini("livebracket_store", "store of the `livebracket` server: memory, embedded or mongo", default="")
    parser.addini("livebracket_mongo_url", "mongodb:// URL for the mongo store", default="")
    parser.addini("livebracket_timeout", "default deadline of each wait, in seconds", default="")
    parser.addini("livebracket_server_args", "more server.py arguments", type="args", default=[])


@dataclasses.dataclass(frozen=True)
class Settings:
    """The plugin's options, read once per session: options win over ini values."""

    store: str
    mongo_url: str | None
    timeout_s: float
    server_args: tuple[str, ...]


def read_settings(config: pytest.Config) -> Settings:
    """Raises pytest.UsageError for a bad value."""
    def option(name: str) -> Any:
        return config.getoption(name, default=None) or config.getini(name)

    mongo_url = option("livebracket_mongo_url") or None
    store = option("livebracket_store") or ("mongo" if mongo_url else "memory")
    if store not in STORES:
        raise pytest.UsageError(f"livebracket_store must be one of {', '.join(STORES)}, not {store!r}")
    if store == "mongo" and not mongo_url:
        raise pytest.UsageError("--livebracket-store mongo needs --livebracket-mongo-url (or livebracket_mongo_url)")
    try:
        timeout_s = float(option("livebracket_timeout") or DEFAULT_TIMEOUT_S)
    except ValueError:
        raise pytest.UsageError(f"livebracket_timeout must be a number of seconds, not "
                                f"{config.getini('livebracket_timeout')!r}") from None
    args = (*config.getini("livebracket_server_args"), *(config.getoption("livebracket_server_arg", default=None) or ()))
    return Settings(store, mongo_url, timeout_s, tuple(args))


def find_checkout(config: pytest.Config) -> Path:
    """--livebracket-home, else the livebracket_home ini value (relative to its ini file), else
    LIVEBRACKET_HOME, else find_home's own search. Raises pytest.UsageError."""
    given: tuple[Path | None, str] = (None, HOME_ENV)
    if cli := config.getoption("livebracket_home", default=None):
        given = (config.invocation_params.dir / cli, "--livebracket-home")
    elif ini := config.getini("livebracket_home"):
        given = ((config.inipath.parent if config.inipath else config.rootpath) / ini, "the livebracket_home ini value")
    elif env := os.environ.get(HOME_ENV):
        given = (Path(env), HOME_ENV)
    try:
        return find_home(*given)
    except HomeNotFoundError as e:
        raise pytest.UsageError(str(e)) from None


@pytest.fixture(scope="session")
def _livebracket_settings(pytestconfig: pytest.Config) -> Settings:
    return read_settings(pytestconfig)


@pytest.fixture(scope="session")
def _livebracket_home(pytestconfig: pytest.Config) -> Path:
    return find_checkout(pytestconfig)


@pytest.fixture(scope="session")
def _livebracket_loop() -> Iterator[LoopThread]:
    """The plugin's event loop thread, where every client's I/O runs."""
    loop = LoopThread().start()
    yield loop
    loop.stop()


@pytest.fixture(scope="session")
def livebracket(_livebracket_home: Path, _livebracket_settings: Settings, _livebracket_loop: LoopThread,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One livebracket server process for the session (memory store unless the options say
    otherwise): `.url`, `.ws_url`, `.port`, `.organizer_token`, `.token()`, `.client()`. Stopped and
    its files removed after the last test. Make fresh tournaments per test (`make_tournament`)."""
    s = _livebracket_settings
    server = start_server(_livebracket_loop, _livebracket_home, tmp_path_factory.mktemp("livebracket"), store=s.store,
                          mongo_url=s.mongo_url, args=s.server_args, timeout_s=s.timeout_s)
    yield server
    server.stop()


@pytest.fixture
def livebracket_factory(_livebracket_home: Path, _livebracket_settings: Settings,
                        _livebracket_loop: LoopThread, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., LiveServer]]:
    """`livebracket_factory(store="memory", mongo_url=None, args=())`: a server of this test's own
    (another store, other server.py arguments, a restart to survive), stopped and removed after it."""
    s = _livebracket_settings
    started: list[LiveServer] = []

    def start(store: str = "memory", mongo_url: str | None = None, args: Sequence[str] = ()) -> LiveServer:
        started.append(start_server(_livebracket_loop, _livebracket_home, tmp_path_factory.mktemp("livebracket"),
                                    store=store, mongo_url=mongo_url or s.mongo_url,
                                    args=(*s.server_args, *args), timeout_s=s.timeout_s))
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def livebracket_token(livebracket: LiveServer) -> Callable[..., str]:
    """`livebracket_token(role="spectator", user_id=None, *, name=None, ttl_s=3600)`: a token for
    any role (admin, organizer, player, spectator), signed with the server's secret."""
    return livebracket.token


@pytest.fixture
def livebracket_client(livebracket: LiveServer) -> Api:
    """The HTTP client, as the organizer: `.get/.post/.put/.patch/.delete(path, body, expect=)`
    answer a Response (`.status`, `.json`, `.headers`); `.with_token(t)` acts as another token."""
    return livebracket.client()


@pytest.fixture
def livebracket_socket(livebracket: LiveServer) -> Iterator[SocketFactory]:
    """`livebracket_socket(path, token=None, *, since=None, epoch=None, welcome=True, timeout=None)`:
    a socket with `.welcome`, `.expect(type)`, `.recv()`, `.command()`, `.reconnect()`; every one
    this test opened is closed after it."""
    sockets = livebracket.sockets()
    yield sockets
    sockets.close_all()


@pytest.fixture
def make_tournament(livebracket_client: Api) -> Callable[..., Tournament]:
    """`make_tournament(n=8, format="single_elimination", start=True, *, name=None, game="",
    options=None)`: a tournament of players p1..pn through REST; `.id`, `.participants`, `.matches`."""
    def make(n: int = 8, format: str = "single_elimination", start: bool = True, **kw: Any) -> Tournament:
        return create(livebracket_client, n, format, start, **kw)

    return make


@pytest.fixture
def webhook_sink(_livebracket_settings: Settings, _livebracket_loop: LoopThread) -> Iterator[WebhookSink]:
    """A webhook receiver on 127.0.0.1: `.url`, `.deliveries`, `.expect(n)`, `.fail_next(k, status=500)`,
    `.verify(secret)`. It needs no server, and is stopped after the test."""
    sink = WebhookSink(_livebracket_loop, _livebracket_settings.timeout_s).start()
    yield sink
    sink.stop()
