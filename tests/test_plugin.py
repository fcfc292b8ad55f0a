"""The pytest plugin (pytest_livebracket, docs/testing.md): its example passes from a clean venv
with livebracket installed, every documented way of enabling it loads it once, it starts nothing
until a test asks, its servers are removed after, and its webhook sink records, fails on request
and checks signatures."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_livebracket.loop import WaitTimeout
from pytest_livebracket.server import process_gone
from pytest_livebracket.webhooks import WebhookSink, sign, verify_signature

pytest_plugins = ["pytester", "pytest_livebracket.plugin"]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "examples" / "test_livebracket_example.py"
SECRET = "whsec-0123456789abcdef"
NOT_FOR_A_CLEAN_RUN = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTEST_ADDOPTS", "PYTEST_PLUGINS",
                       "PYTEST_DISABLE_PLUGIN_AUTOLOAD")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a fresh shell: no PYTHONPATH, no pytest or livebracket settings."""
    keep = {k: v for k, v in os.environ.items()
            if k not in NOT_FOR_A_CLEAN_RUN and not k.startswith("LIVEBRACKET_")}
    return {**keep, **extra}


@pytest.fixture(scope="module")
def clean_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A new venv with this checkout installed as an integrator installs it, `livebracket[pytest]`
    (dependencies included: the install must be complete); its python."""
    venv = tmp_path_factory.mktemp("venv")
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=clean_env())
    python = venv / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                              f"{ROOT}[pytest]"], env=clean_env(), capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stdout + install.stderr
    print(f"clean venv with livebracket[pytest] installed in {time.monotonic() - started:.1f} s")
    yield python
    shutil.rmtree(venv, ignore_errors=True)


def integrator_project(tmp_path: Path, conftest: str = "") -> Path:
    """A project folder of its own (nothing of this checkout on its path) holding the example."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\n")
    shutil.copy(EXAMPLE, project / EXAMPLE.name)
    if conftest:
        (project / "conftest.py").write_text(conftest)
    return project


def run_pytest(python: Path, project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=project,
                          env=clean_env(**env), capture_output=True, text=True, timeout=300)


def test_the_example_passes_from_a_clean_venv(clean_venv: Path, tmp_path: Path) -> None:
    """docs/examples/test_livebracket_example.py passes with `-p livebracket` in a venv that has only
    livebracket[pytest]: the plugin finds the server through the install's direct_url.json."""
    tests = len(re.findall(r"^def test_", EXAMPLE.read_text(), re.M))
    started = time.monotonic()
    run = run_pytest(clean_venv, integrator_project(tmp_path), "-p", "livebracket", EXAMPLE.name)
    print(f"the example's {tests} tests ran in {time.monotonic() - started:.1f} s")
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(rf"\b{tests} passed\b", run.stdout) and "failed" not in run.stdout, run.stdout


LISTED = 'pytest_plugins = ["pytest_livebracket.plugin"]\n'


@pytest.mark.parametrize(("autoload", "conftest", "args"), [
    (True, "", ()),
    (True, "", ("-p", "livebracket")),
    (True, LISTED, ()),
    (True, LISTED, ("-p", "livebracket")),
    (False, "", ("-p", "livebracket")),
    (False, "", ("-p", "pytest_livebracket.plugin")),
    (False, LISTED, ()),
    (False, LISTED, ("-p", "livebracket")),
    (True, "", ("-p", "pytest_livebracket.plugin")),
    (True, LISTED, ("-p", "pytest_livebracket.plugin")),
], ids=["auto", "auto-p", "auto-listed", "auto-listed-p", "p", "p-module", "listed", "listed-p",
        "auto-p-module", "auto-listed-p-module"])
def test_each_documented_way_of_enabling_the_plugin_loads_it_once(
        clean_venv: Path, tmp_path: Path, autoload: bool, conftest: str, args: tuple[str, ...]) -> None:
    """Auto-loaded, `-p livebracket`, `-p pytest_livebracket.plugin` and `pytest_plugins`, alone or
    together, with plugin auto-loading on or off: the fixtures are there, the plugin registered
    once (pytest refuses one module under two names)."""
    env = {} if autoload else {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    run = run_pytest(clean_venv, integrator_project(tmp_path, conftest), *args, "--fixtures", **env)
    assert run.returncode == 0, run.stdout + run.stderr
    for fixture in ("livebracket ", "livebracket_socket", "make_tournament", "webhook_sink"):
        assert fixture in run.stdout, run.stdout


def test_without_autoload_nothing_enables_it_but_asking(clean_venv: Path, tmp_path: Path) -> None:
    """With plugin auto-loading off and no -p or listing, the plugin is not there."""
    run = run_pytest(clean_venv, integrator_project(tmp_path), "--fixtures", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert run.returncode == 0 and "make_tournament" not in run.stdout, run.stdout + run.stderr


def test_it_starts_nothing_until_a_test_asks_and_then_says_where_the_server_is_missing(
        pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Loaded with a LIVEBRACKET_HOME that holds no server.py, tests that ask for no server (the
    webhook sink included) pass; one that asks gets a UsageError saying how to name a checkout."""
    monkeypatch.setenv("LIVEBRACKET_HOME", str(tmp_path))
    pytester.makepyfile("""
        def test_plain():
            pass

        def test_sink(webhook_sink):
            assert webhook_sink.url.startswith("http://127.0.0.1:")

        def test_server(livebracket):
            pass
    """)
    result = pytester.runpytest("-p", "pytest_livebracket.plugin")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*UsageError: LIVEBRACKET_HOME is *, which holds no server.py*"])


def test_servers_run_the_store_asked_for_and_are_stopped_and_removed_after(pytester: pytest.Pytester) -> None:
    """`--livebracket-store embedded` gives the session's server an embedded store, a factory's server
    takes server.py arguments; after the run both processes (and the store's) are gone with their
    files."""
    record = pytester.path / "record.json"
    pytester.makepyfile(f"""
        import json
        from pytest_livebracket.server import store_pid

        def test_session_server(livebracket, livebracket_client, make_tournament):
            assert livebracket.store == "embedded"
            cup = make_tournament(n=3, format="round_robin")
            assert len(cup.matches) == 3
            assert livebracket_client.get("/healthz", expect=200).json["store_kind"] == "embedded"
            with open({str(record)!r}, "w") as f:
                json.dump([livebracket.process.pid, store_pid(livebracket.data_dir), str(livebracket.work_dir)], f)

        def test_factory_server(livebracket_factory, livebracket, make_tournament):
            server = livebracket_factory(args=["--ping-interval-s", "5"])
            assert server.port != livebracket.port
            cup = make_tournament(n=2)  # on the session's server: not on this one
            assert server.client().get(f"/api/tournaments/{{cup.id}}").status == 404
            sockets = server.sockets()
            lobby = sockets("/ws/lobby", server.token("spectator"))
            assert lobby.welcome["data"]["heartbeat_interval"] == 5000
            sockets.close_all()
            with open({str(record)!r}) as f:
                pids = json.load(f)
            with open({str(record)!r}, "w") as f:
                json.dump(pids + [server.process.pid, str(server.work_dir)], f)
    """)
    result = pytester.runpytest("-p", "pytest_livebracket.plugin", "--livebracket-home", str(ROOT),
                                "--livebracket-store", "embedded")
    result.assert_outcomes(passed=2)
    server_pid, embedded_pid, work_dir, factory_pid, factory_dir = json.loads(record.read_text())
    assert process_gone(server_pid) and process_gone(embedded_pid) and process_gone(factory_pid)
    assert not Path(work_dir).exists() and not Path(factory_dir).exists()


def test_verify_signature_accepts_exactly_the_signed_bytes_in_time() -> None:
    """The secret's HMAC of `t.` + body within the tolerance passes; another secret, another body,
    an old or future stamp, or a malformed header does not."""
    body = b'{"webhook_id":"wh_1","seq":1}'
    now = 1_800_000_000
    header = sign(SECRET, body, t=now)
    assert verify_signature(SECRET, header, body, now=now + 299)
    assert verify_signature(SECRET, f"t={now},v1={'0' * 64},{header.split(',')[1]}", body, now=now)  # rotation
    assert not verify_signature("another-secret", header, body, now=now)
    assert not verify_signature(SECRET, header, body + b" ", now=now)
    assert not verify_signature(SECRET, header, body, now=now + 301)
    assert not verify_signature(SECRET, header, body, now=now - 301)
    assert verify_signature(SECRET, header, body, now=now + 3000, tolerance_s=3600)
    v1 = header.split(",")[1]
    for malformed in ("", v1, f"t={now}", f"t=,{v1}", f"t=1e9,{v1}", f"t={now},t={now},{v1}",
                      f"t=\u0661\u0662,{v1}", f"t={now};{v1}", f"t={now},v1=\u00e9", "garbage"):
        assert not verify_signature(SECRET, malformed, body, now=now), malformed


def post(url: str, body: bytes, signature: str) -> int:
    """POST `body` as a webhook delivery would come; the status answered."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Livebracket-Webhook": "wh_1",
        "X-Livebracket-Seq": str(json.loads(body)["seq"]), "X-Livebracket-Signature": signature})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
    try:
        with opener.open(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as e:
        return e.code


def test_the_webhook_sink_records_fails_on_request_and_verifies(webhook_sink: WebhookSink) -> None:
    """Every POST is recorded (body, headers, raw bytes, the status answered); `fail_next` answers
    the next ones with an error; `verify` passes only when every signature is the secret's."""
    first = json.dumps({"webhook_id": "wh_1", "seq": 1, "stream": "match:m_1", "stream_seq": 4,
                        "type": "score_updated", "tournament_id": "t_1", "data": {}, "ts": 1}).encode()
    second = first.replace(b'"seq": 1', b'"seq": 2')
    webhook_sink.fail_next(1, status=503)
    assert [post(webhook_sink.url, first, sign(SECRET, first)),  # refused: the sender retries it
            post(webhook_sink.url, first, sign(SECRET, first)),
            post(webhook_sink.url + "/deeper", second, sign(SECRET, second))] == [503, 200, 200]
    deliveries = webhook_sink.expect(3, timeout=5)
    assert [d.status for d in deliveries] == [503, 200, 200]
    assert [d.body["seq"] for d in webhook_sink.accepted] == [1, 2]
    assert deliveries[2].raw == second and deliveries[2].path == "/hooks/deeper"
    assert deliveries[0].headers["x-livebracket-seq"] == "1" and deliveries[0].headers["X-Livebracket-Webhook"] == "wh_1"
    webhook_sink.verify(SECRET)
    with pytest.raises(AssertionError, match="not signed"):
        webhook_sink.verify("another-secret")

    third = second.replace(b'"seq": 2', b'"seq": 3')
    assert post(webhook_sink.url, third, sign("another-secret", third)) == 200
    with pytest.raises(AssertionError, match=r"1 of 4 deliveries not signed .*#3"):
        webhook_sink.verify(SECRET)
    with pytest.raises(WaitTimeout, match="4 of 5 webhook deliveries"):
        webhook_sink.expect(5, timeout=0.2)
