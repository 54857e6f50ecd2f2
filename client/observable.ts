/** A value that changes over time: read it, or be told each change. */
export class Observable<T> {
  private readonly listeners = new Set<(value: T) => void>();

  constructor(private current: T) {}

  get value(): T {
    return this.current;
  }

  /** Calls `listener` with the current value at once, then with every change; returns the unsubscribe. */
  subscribe(listener: (value: T) => void): () => void {
    this.listeners.add(listener);
    listener(this.current);
    return () => this.listeners.delete(listener);
  }

  set(value: T): void {
    this.current = value;
    for (const l of [...this.listeners]) l(value);
  }
}
