"""Benchmarks of livebracket's WebSocket fan-out beside two peers (see docs/performance.md)."""
