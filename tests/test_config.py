"""Unit tests of config: defaults, LIVEBRACKET_* variables, CLI precedence, durations, the JWT secret."""

from __future__ import annotations

import dataclasses
import importlib.util
import stat
from pathlib import Path
from typing import Any

import pytest

from config import (JWT_SECRET_FILE, Config, ConfigError, load_config, parse_duration_s, secret_source,
                    with_jwt_secret)

find_spec = importlib.util.find_spec
ROOT = Path(__file__).resolve().parent.parent  # the checkout: server.py and config.py
MONGO_URL = "mongodb://db.lan:27017"
SECRET = "s3cret-" + "0123456789abcdef" * 3


def test_defaults() -> None:
    """With no argument and an empty environment every setting has its default."""
    config = load_config([], {})
    assert config == Config()
    assert config.host == "127.0.0.1"
    assert config.port == 8888
    assert config.store == "embedded"
    assert config.mongo_url is None
    assert config.db_name == "livebracket"
    assert config.data_dir == ROOT / "data"
    assert config.jwt_secret == ""
    assert config.token_ttl_s == 12 * 3600


# (environment variable, its value, CLI flag, CLI value, Config field, value from env, value from CLI)
OPTIONS: list[tuple[str, str, str, str, str, Any, Any]] = [
    ("HOST", "0.0.0.0", "--host", "10.0.0.5", "host", "0.0.0.0", "10.0.0.5"),
    ("PORT", "9000", "--port", "9100", "port", 9000, 9100),
    ("STORE", "memory", "--store", "embedded", "store", "memory", "embedded"),
    ("DB_NAME", "lan_party", "--db-name", "finals", "db_name", "lan_party", "finals"),
    ("DATA_DIR", "/var/lib/lb", "--data-dir", "/srv/lb", "data_dir", Path("/var/lib/lb"), Path("/srv/lb")),
    ("JWT_SECRET", SECRET, "--jwt-secret", SECRET + "-cli", "jwt_secret", SECRET, SECRET + "-cli"),
    ("TOKEN_TTL", "15m", "--token-ttl", "2h", "token_ttl_s", 900, 7200),
    ("TOURNAMENT_WINDOW_S", "0.5", "--tournament-window-s", "0", "tournament_window_s", 0.5, 0.0),
    ("EVENT_LOOP", "asyncio", "--event-loop", "uvloop", "event_loop", "asyncio", "uvloop"),
]
OPTION_IDS = [o[0].lower() for o in OPTIONS]


@pytest.mark.parametrize(("var", "env_value", "flag", "cli_value", "field", "from_env", "from_cli"),
                         OPTIONS, ids=OPTION_IDS)
def test_option_read_from_environment(var: str, env_value: str, flag: str, cli_value: str, field: str,
                                      from_env: Any, from_cli: Any) -> None:
    """Each option is read from its LIVEBRACKET_* variable."""
    config = load_config([], {"LIVEBRACKET_" + var: env_value})
    assert getattr(config, field) == from_env


@pytest.mark.parametrize(("var", "env_value", "flag", "cli_value", "field", "from_env", "from_cli"),
                         OPTIONS, ids=OPTION_IDS)
def test_option_read_from_command_line(var: str, env_value: str, flag: str, cli_value: str, field: str,
                                       from_env: Any, from_cli: Any) -> None:
    """Each option is read from its command-line flag."""
    assert getattr(load_config([flag, cli_value], {}), field) == from_cli


@pytest.mark.parametrize(("var", "env_value", "flag", "cli_value", "field", "from_env", "from_cli"),
                         OPTIONS, ids=OPTION_IDS)
def test_command_line_overrides_environment(var: str, env_value: str, flag: str, cli_value: str,
                                            field: str, from_env: Any, from_cli: Any) -> None:
    """A flag wins over the LIVEBRACKET_* variable of the same option."""
    config = load_config([flag, cli_value], {"LIVEBRACKET_" + var: env_value})
    assert getattr(config, field) == from_cli


def test_event_loop_is_uvloop_where_it_is_installed() -> None:
    """make test installs uvloop (setup.cfg, not on Windows): the server runs on it unless told."""
    assert load_config([], {}).event_loop == "uvloop"


def test_event_loop_uvloop_where_it_is_missing_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Asked for uvloop where it is not installed: one line saying what to do, never an ImportError."""
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "uvloop" else find_spec(name))
    assert load_config([], {}).event_loop == "asyncio"
    with pytest.raises(ConfigError, match="uvloop is not installed.*--event-loop asyncio"):
        load_config(["--event-loop", "uvloop"], {})


def test_unknown_event_loop_from_environment_is_refused() -> None:
    with pytest.raises(ConfigError, match="event loop must be one of uvloop, asyncio, not 'trio'"):
        load_config([], {"LIVEBRACKET_EVENT_LOOP": "trio"})


def test_mongo_url_from_environment() -> None:
    """LIVEBRACKET_MONGO_URL is read and implies the mongo store."""
    config = load_config([], {"LIVEBRACKET_MONGO_URL": MONGO_URL})
    assert (config.store, config.mongo_url) == ("mongo", MONGO_URL)


def test_mongo_url_flag_overrides_environment() -> None:
    """--mongo-url wins over LIVEBRACKET_MONGO_URL."""
    config = load_config(["--mongo-url", "mongodb+srv://cluster.example"],
                         {"LIVEBRACKET_MONGO_URL": MONGO_URL})
    assert (config.store, config.mongo_url) == ("mongo", "mongodb+srv://cluster.example")


def test_mongo_url_implies_mongo_store() -> None:
    """--mongo-url alone selects the mongo store."""
    config = load_config(["--mongo-url", MONGO_URL], {})
    assert (config.store, config.mongo_url) == ("mongo", MONGO_URL)


def test_explicit_store_keeps_mongo_url_out() -> None:
    """--store memory with a Mongo URL in the environment uses memory and drops the URL."""
    config = load_config(["--store", "memory"], {"LIVEBRACKET_MONGO_URL": MONGO_URL})
    assert (config.store, config.mongo_url) == ("memory", None)


@pytest.mark.parametrize(("argv", "environ"), [
    (["--store", "mongo"], {}),
    ([], {"LIVEBRACKET_STORE": "mongo"}),
], ids=["cli", "env"])
def test_mongo_store_without_url_is_refused(argv: list[str], environ: dict[str, str]) -> None:
    """The mongo store needs a URL: ConfigError."""
    with pytest.raises(ConfigError, match="--mongo-url"):
        load_config(argv, environ)


def test_mongo_url_with_another_scheme_is_refused() -> None:
    """A Mongo URL must start with mongodb:// or mongodb+srv://."""
    with pytest.raises(ConfigError, match="mongodb://"):
        load_config(["--mongo-url", "http://db.lan:27017"], {})


def test_unknown_store_from_environment_is_refused() -> None:
    """LIVEBRACKET_STORE outside embedded/mongo/memory is a ConfigError, not a silent setting."""
    with pytest.raises(ConfigError):
        load_config([], {"LIVEBRACKET_STORE": "postgres"})


@pytest.mark.parametrize("port", ["abc", "", "80.5", "-1", "65536", "70000"])
def test_bad_port_is_refused(port: str) -> None:
    """A port that is not a number in 0..65535 is a ConfigError, from the CLI or the environment."""
    with pytest.raises(ConfigError, match="--port"):
        load_config(["--port", port], {})
    with pytest.raises(ConfigError, match="--port"):
        load_config([], {"LIVEBRACKET_PORT": port})


@pytest.mark.parametrize("port", ["0", "1", "65535"])
def test_port_bounds_are_accepted(port: str) -> None:
    """0 (any free port) through 65535 are valid ports."""
    assert load_config(["--port", port], {}).port == int(port)


def test_bad_token_ttl_is_refused() -> None:
    """An unreadable token lifetime is a ConfigError."""
    with pytest.raises(ConfigError):
        load_config([], {"LIVEBRACKET_TOKEN_TTL": "forever"})


def test_secret_is_not_in_repr() -> None:
    """The JWT secret never appears in the config's repr."""
    config = load_config(["--jwt-secret", SECRET], {})
    assert SECRET not in repr(config)
    assert SECRET not in str(config)


# --- durations -----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "seconds"), [
    ("90", 90), ("90s", 90), ("15m", 900), ("12h", 43200), ("7d", 604800), (" 15M ", 900), ("1s", 1),
])
def test_parse_duration(text: str, seconds: int) -> None:
    """Plain seconds or a number with s, m, h or d becomes whole seconds."""
    assert parse_duration_s(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "0", "-5m", "0s", "m", "1.5h", "5w", "10 minutes"])
def test_bad_duration_is_refused(text: str) -> None:
    """Anything else, or a duration that is not positive, is a ConfigError."""
    with pytest.raises(ConfigError):
        parse_duration_s(text)


# --- the JWT secret ------------------------------------------------------------------------

def test_generated_secret_is_kept_with_mode_0600(tmp_path: Path) -> None:
    """Without a secret one is generated into the data dir, readable by the owner only."""
    config = Config(data_dir=tmp_path / "data")
    with_secret = with_jwt_secret(config)
    path = tmp_path / "data" / JWT_SECRET_FILE
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(with_secret.jwt_secret) >= 32
    assert path.read_text().strip() == with_secret.jwt_secret
    assert dataclasses.replace(with_secret, jwt_secret="") == config


def test_generated_secret_survives_a_restart(tmp_path: Path) -> None:
    """A second call (a restart) returns the same secret, so issued tokens stay valid."""
    first = with_jwt_secret(Config(data_dir=tmp_path))
    second = with_jwt_secret(Config(data_dir=tmp_path))
    assert first.jwt_secret == second.jwt_secret
    assert [p.name for p in tmp_path.iterdir()] == [JWT_SECRET_FILE]


def test_generated_secrets_differ_between_data_dirs(tmp_path: Path) -> None:
    """Two data dirs get two different secrets."""
    one = with_jwt_secret(Config(data_dir=tmp_path / "one"))
    two = with_jwt_secret(Config(data_dir=tmp_path / "two"))
    assert one.jwt_secret != two.jwt_secret


def test_given_secret_is_kept_and_nothing_written(tmp_path: Path) -> None:
    """An explicit secret is returned unchanged and no file is written."""
    config = Config(data_dir=tmp_path / "data", jwt_secret=SECRET)
    assert with_jwt_secret(config) == config
    assert not (tmp_path / "data").exists()


def test_short_kept_secret_is_refused(tmp_path: Path) -> None:
    """A kept secret shorter than 32 characters is a ConfigError."""
    (tmp_path / JWT_SECRET_FILE).write_text("too-short\n")
    with pytest.raises(ConfigError, match="shorter than 32 characters"):
        with_jwt_secret(Config(data_dir=tmp_path))


@pytest.mark.parametrize(("argv", "environ"), [(["--jwt-secret", "x" * 31], {}),
                                               ([], {"LIVEBRACKET_JWT_SECRET": "x" * 31})],
                         ids=["flag", "environment"])
def test_short_given_secret_is_refused(argv: list[str], environ: dict[str, str]) -> None:
    """A secret under 32 characters from --jwt-secret or LIVEBRACKET_JWT_SECRET is a ConfigError."""
    with pytest.raises(ConfigError, match="at least 32 characters, not 31"):
        load_config(argv, environ)


def test_default_data_dir_does_not_depend_on_the_current_folder(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --data-dir the data dir is data/ beside server.py, from whatever folder it runs."""
    monkeypatch.chdir(tmp_path)
    assert load_config([], {}).data_dir == ROOT / "data"
    assert load_config(["--data-dir", "here"], {}).data_dir == Path("here")  # as given: from the folder


def test_secret_source_names_the_file_not_the_secret(tmp_path: Path) -> None:
    """`server.py token` says which secret signed: the kept file's path, or the option."""
    config = with_jwt_secret(Config(data_dir=tmp_path))
    assert secret_source(config, None) == f"the secret kept in {tmp_path / JWT_SECRET_FILE}"
    assert config.jwt_secret not in secret_source(config, config.jwt_secret)


def test_unwritable_data_dir_is_refused(tmp_path: Path) -> None:
    """A data dir that cannot be created is a ConfigError."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="cannot keep the JWT secret"):
        with_jwt_secret(Config(data_dir=blocker / "data"))


def test_the_tournament_window_follows_the_batch_window_unless_given() -> None:
    assert load_config(["--batch-window-s", "0.25"], {}).scores_window_s == 0.25
    assert load_config(["--batch-window-s", "0.25", "--tournament-window-s", "0"], {}).scores_window_s == 0.0
    with pytest.raises(ConfigError, match="--tournament-window-s must be between"):
        load_config(["--tournament-window-s", "11"], {})
