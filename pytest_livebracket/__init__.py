"""livebracket's pytest plugin: a real server process and clients of it, for integrators' tests.

The fixtures are in `pytest_livebracket.plugin` (docs/testing.md). The rest imports on its own:
`ServerProcess` and finding the checkout (server), the async clients the suite uses (aio), the
synchronous clients of the fixtures (live, sockets, on the loop of `loop`), and the webhook
sink with `verify_signature` (webhooks).
"""
