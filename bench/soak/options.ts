// `npm run soak -- --minutes N [...]`: the soak's command line.
import path from 'node:path';

export interface SoakOptions {
  minutes: number;
  replicas: number;
  clients: number;
  channels: number;
  /** Messages per second, all publishers together. */
  rate: number;
  sampleS: number;
  /** Samples before this are charted but left out of the slopes. */
  warmupS: number;
  /** The last replica is restarted this often (SIGTERM and SIGKILL in turn); 0: never. */
  restartEveryS: number;
  /** One client drops its connection and resumes this often. */
  churnEveryMs: number;
  out: string;
}

export class SoakUsage extends Error {}

const USAGE = `usage: npm run soak -- --minutes N [--replicas 3] [--clients 30] [--channels 3] [--rate 10]
  [--sample-s 10] [--warmup-s 60] [--restart-every-s 40] [--churn-every-ms 1000] [--out .data/soak]`;

export function parseSoakArgs(argv: string[], root: string): SoakOptions {
  const o: SoakOptions = {
    minutes: NaN,
    replicas: 3,
    clients: 30,
    channels: 3,
    rate: 10,
    sampleS: 10,
    warmupS: 60,
    restartEveryS: 40,
    churnEveryMs: 1000,
    out: path.join(root, '.data', 'soak'),
  };
  const keys: Record<string, keyof SoakOptions> = {
    '--minutes': 'minutes',
    '--replicas': 'replicas',
    '--clients': 'clients',
    '--channels': 'channels',
    '--rate': 'rate',
    '--sample-s': 'sampleS',
    '--warmup-s': 'warmupS',
    '--restart-every-s': 'restartEveryS',
    '--churn-every-ms': 'churnEveryMs',
    '--out': 'out',
  };
  for (let i = 0; i < argv.length; i++) {
    const key = keys[argv[i]];
    const value = argv[i + 1];
    if (!key || value === undefined) throw new SoakUsage(`${argv[i]}: unknown or without a value\n${USAGE}`);
    i++;
    if (key === 'out') o.out = path.resolve(value);
    else {
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0) throw new SoakUsage(`${argv[i - 1]}: not a number ≥ 0\n${USAGE}`);
      o[key] = n;
    }
  }
  if (!(o.minutes > 0)) throw new SoakUsage(`--minutes is required (> 0)\n${USAGE}`);
  if (o.replicas < 2) throw new SoakUsage('--replicas: at least 2 (one is restarted, the others are measured)');
  if (o.warmupS >= o.minutes * 60) throw new SoakUsage('--warmup-s must be shorter than the run');
  return o;
}
