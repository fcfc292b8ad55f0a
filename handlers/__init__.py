"""The HTTP edge: parse, authorize, call one service, serialize."""
