// GET /api/cluster: what every replica reported in the last 5 s (no message contents).

export type ReplicaStatus = 'ok' | 'degraded' | 'unready' | 'draining';

export interface ReplicaReport {
  id: string;
  status: ReplicaStatus;
  sockets: number;
  deliveriesPerS: number;
  publishP99Ms: number | null;
  lastSeen: string;
  ageMs: number;
}

export interface ClusterReport {
  servedBy: string;
  at: string;
  redis: 'ok' | 'down' | 'disabled';
  postgres: 'ok' | 'busy' | 'down';
  replicas: ReplicaReport[];
}

export type ClusterAnswer =
  | { kind: 'report'; report: ClusterReport }
  /** The token was refused: ask for it again. */
  | { kind: 'refused' }
  /** No ADMIN_TOKEN configured on the hub: the view is off. */
  | { kind: 'off' }
  /** Unreachable or failing: worth asking again. */
  | { kind: 'failed'; why: string };

/** A poll that has not answered by then is given up, so a hung replica does not freeze the view. */
const TIMEOUT_MS = 3_000;

export async function fetchCluster(token: string): Promise<ClusterAnswer> {
  let res: Response;
  try {
    res = await fetch('/api/cluster', { headers: { authorization: `Bearer ${token}` }, cache: 'no-store', signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (e) {
    return { kind: 'failed', why: (e as Error).name === 'TimeoutError' ? 'no answer in 3 s' : 'the hub cannot be reached' };
  }
  if (res.status === 401) return { kind: 'refused' };
  if (res.status === 404) return { kind: 'off' };
  if (!res.ok) return { kind: 'failed', why: `HTTP ${res.status}` };
  try {
    return { kind: 'report', report: (await res.json()) as ClusterReport };
  } catch {
    return { kind: 'failed', why: 'an unreadable answer' };
  }
}
