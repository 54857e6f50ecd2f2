interface Waiting<T, R> {
  item: T;
  resolve(r: R): void;
  reject(e: unknown): void;
}

/**
 * Group commit's queue: items of one key wait while a batch of that key is
 * being written, then whoever finds the key idle takes everything waiting
 * (up to `max`) into one batch. Keys run independently; one batch per key
 * in flight.
 */
export class KeyedBatcher<T, R> {
  private readonly queues = new Map<string, Array<Waiting<T, R>>>();
  private readonly busy = new Set<string>();

  constructor(
    /** Writes one batch; answers each item in order, with its result or the Error it failed with. */
    private readonly run: (key: string, items: T[]) => Promise<Array<R | Error>>,
    private readonly max: number,
  ) {}

  submit(key: string, item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(key);
      if (queue) queue.push({ item, resolve, reject });
      else this.queues.set(key, [{ item, resolve, reject }]);
      if (!this.busy.has(key)) void this.drain(key);
    });
  }

  private async drain(key: string) {
    this.busy.add(key);
    try {
      for (let queue = this.queues.get(key); queue?.length; queue = this.queues.get(key)) {
        const batch = queue.splice(0, this.max);
        if (queue.length === 0) this.queues.delete(key);
        let results: Array<R | Error>;
        try {
          results = await this.run(
            key,
            batch.map((w) => w.item),
          );
        } catch (e) {
          for (const w of batch) w.reject(e);
          continue;
        }
        batch.forEach((w, i) => (results[i] instanceof Error ? w.reject(results[i]) : w.resolve(results[i])));
      }
    } finally {
      this.busy.delete(key);
    }
  }
}
