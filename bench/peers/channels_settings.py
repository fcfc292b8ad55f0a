"""The least Django settings the Channels peer needs: no database, the in-memory channel layer."""

SECRET_KEY = "bench-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["channels"]
DATABASES: dict[str, object] = {}
USE_TZ = True
ASGI_APPLICATION = "bench.peers.channels_app.application"
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
LOGGING_CONFIG = None
