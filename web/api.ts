import type { ChannelDto, UserDto } from '../client/index.js';

// The REST calls the page makes itself (the client library covers history).
// Same origin: the page is served by the hub, or by the balancer in front.

/** A refusal from the hub, with its code and what to tell the user. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(method: string, path: string, token?: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'the hub cannot be reached; try again');
  }
  const payload = (await res.json().catch(() => ({}))) as T & { code?: string; message?: string; details?: { field: string; reason: string }[] };
  if (!res.ok) {
    // Validation answers say which field is wrong: that is what the user needs.
    const details = payload.details?.map((d) => `${d.field} ${d.reason}`).join('; ');
    throw new ApiError(res.status, payload.code ?? 'INTERNAL', details || payload.message || `HTTP ${res.status}`);
  }
  return payload;
}

export type AuthResult = { user: UserDto; token: string };

export const register = (username: string, password: string) => call<AuthResult>('POST', '/api/auth/register', undefined, { username, password });
export const login = (username: string, password: string) => call<AuthResult>('POST', '/api/auth/login', undefined, { username, password });

export const listChannels = (token: string, cursor?: string) =>
  call<{ items: ChannelDto[]; nextCursor: string | null }>('GET', `/api/channels?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, token);
export const getChannel = (token: string, id: string) => call<ChannelDto>('GET', `/api/channels/${id}`, token);
export const createChannel = (token: string, name: string) => call<ChannelDto>('POST', '/api/channels', token, { name });
