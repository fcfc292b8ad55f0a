"""REST score ingest: guarded `POST /api/matches/<id>/score` from a few clients, as fast as answered.

Each client owns one live match and posts the next score with `If-Match: <version>` as soon
as the previous answer came back (a guarded update is written at once, not batched), so
every request is one read, one version-guarded write and one `score_updated` event in the
store. Used by bench/run.py against `server.py` on the embedded store.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from bench.httpclient import HttpConnection, HttpError


async def _client(host: str, port: int, token: str, match: dict[str, Any], end: float,
                  latencies: list[float], failures: list[str]) -> int:
    conn = HttpConnection(host, port, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    path = f"/api/matches/{match['id']}/score"
    version, ok, k = match["version"], 0, 0
    try:
        while time.perf_counter() < end and len(failures) < 10:
            k += 1
            body = json.dumps({"scores": {"alice": k % 1_000_000}}).encode()
            started = time.perf_counter()
            status, raw = await conn.request("POST", path, body, {"If-Match": str(version)})
            latencies.append(time.perf_counter() - started)
            if status != 200:
                failures.append(f"HTTP {status}: {raw[:200]!r}")
                continue
            version = json.loads(raw)["version"]
            ok += 1
    except HttpError as e:
        failures.append(str(e))
    finally:
        conn.close()
    return ok


async def ingest(host: str, port: int, token: str, matches: list[dict[str, Any]], duration_s: float) -> dict[str, Any]:
    """Run one client per match for `duration_s`; requests/s and request latency."""
    latencies: list[float] = []
    failures: list[str] = []
    started = time.perf_counter()
    counts = await asyncio.gather(*(_client(host, port, token, m, started + duration_s, latencies, failures)
                                    for m in matches))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(q: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, round(q * (len(latencies) - 1)))], 2) if latencies else 0.0

    return {"clients": len(matches), "seconds": round(elapsed, 2), "accepted": sum(counts),
            "requests_per_s": round(sum(counts) / elapsed, 1), "p50_ms": pct(0.5), "p99_ms": pct(0.99),
            "failures": len(failures), "first_failure": failures[0] if failures else None}
