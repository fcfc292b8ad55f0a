// The server's socket close codes (realtime/protocol.py CloseCode; tests/handlers/test_pages.py
// checks that the two agree). docs/protocol.md#close-codes says what each one means.

export const CLOSE = Object.freeze({
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  INTERNAL_ERROR: 1011,
  HEARTBEAT_TIMEOUT: 4005,
  PAYLOAD_TOO_LARGE: 4008,
  SLOW_CONSUMER: 4009,
  RATE_LIMITED: 4029,
  CONNECTION_LIMIT: 4030,
  ROOM_FULL: 4031,
  BAD_REQUEST: 4500,
  AUTH_REQUIRED: 4501,
  TOKEN_EXPIRED: 4502,
  INVALID_TOKEN: 4503,
  NOT_FOUND: 4504,
  ORIGIN_NOT_ALLOWED: 4506,
});

/** Below 4500 a page reconnects by itself; from 4500 on, the same URL and token cannot succeed. */
export const reconnects = (code) => code < 4500;

/** Closes that need another token. */
export const TOKEN_REFUSED = new Set([CLOSE.AUTH_REQUIRED, CLOSE.TOKEN_EXPIRED, CLOSE.INVALID_TOKEN]);

/** Refusals for a limit: wait the refusal's retry_after_ms before reconnecting. */
export const LIMITED = new Set([CLOSE.CONNECTION_LIMIT, CLOSE.ROOM_FULL]);
