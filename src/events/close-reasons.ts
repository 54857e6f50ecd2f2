// Every way the hub refuses or ends a connection, shared by the server and the
// client library: what each means, and whether reconnecting can help.

/** The `message` of a refused handshake's `connect_error`. */
export const HandshakeRefusal = {
  /** The page's origin is not allowed (CORS_ORIGINS): final, no retry fixes it. */
  OriginNotAllowed: 'origin not allowed',
  /** No token, a bad one, an expired or revoked one: final, sign in again for a new token. */
  Unauthorized: 'unauthorized',
  /** Over a connection limit; `data.retryAfterMs` says when to retry. */
  RateLimited: 'rate limited',
  /** The token's user could not be looked up (Postgres unreachable): retry. */
  Unavailable: 'unavailable',
  /** Anything unexpected: retry. */
  Internal: 'internal error',
} as const;
export type HandshakeRefusal = (typeof HandshakeRefusal)[keyof typeof HandshakeRefusal];

/** Refusals that no retry fixes: a client stops reconnecting on these. */
export const FINAL_HANDSHAKE_REFUSALS: ReadonlySet<string> = new Set([HandshakeRefusal.OriginNotAllowed, HandshakeRefusal.Unauthorized]);

/**
 * `session:revoked {reason}`, sent just before the server disconnects the
 * socket (`io server disconnect`, which socket.io-client never retries): final
 * for that token; log in again and resubscribe with sinceSeq.
 */
export const SessionEnd = {
  /** The token's `exp` passed. */
  Expired: 'expired',
  /** A logout everywhere or a password change raised the user's token version. */
  Revoked: 'revoked',
} as const;
export type SessionEnd = (typeof SessionEnd)[keyof typeof SessionEnd];

/**
 * `channel:removed {reason}`: the socket's subscription to the channel ended
 * (the socket stays connected). Resubscribing is refused NOT_FOUND until
 * access is granted again.
 */
export const RemovedReason = {
  /** The owner removed the member (or the tick found the membership gone). */
  Removed: 'removed',
  /** The member left. */
  Left: 'left',
  /** The channel turned private and the user is not a member. */
  Private: 'private',
} as const;
export type RemovedReason = (typeof RemovedReason)[keyof typeof RemovedReason];
