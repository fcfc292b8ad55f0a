"""Live machinery: the hub, the score batcher, the socket protocol, heartbeats, rate limits."""
