import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { LOGGER, type JsonLogger } from '../logging/logger.js';
import { MetricsService } from './metrics.service.js';

/** A loop started by Background.every(); `stop()` is final. */
export interface Loop {
  stop(): void;
}

/**
 * Work nobody awaits: loops that re-arm themselves, and the errors of
 * connections between requests. Every failure is logged with its source and
 * counted in crosswire_background_errors_total{source}; none is thrown, so an
 * unknown failure never stops the process (CONTRACT §11). Every loop started
 * here is stopped when the app closes, so nothing keeps running after it.
 */
@Injectable()
export class Background implements OnModuleDestroy {
  private readonly loops = new Set<Loop>();

  constructor(
    private readonly metrics: MetricsService,
    @Inject(LOGGER) private readonly logger: JsonLogger,
  ) {}

  failed(source: string, err: unknown, fields: Record<string, unknown> = {}): void {
    this.metrics.backgroundErrors.inc({ source });
    this.logger.event('warn', 'background failure', { component: source, ...fields, err: err instanceof Error ? err.message : String(err) });
  }

  /**
   * Runs `work` now and then `everyMs` after each run ends, so runs never
   * overlap however long one takes; a failed run is reported and the loop goes on.
   */
  every(source: string, everyMs: number, work: () => Promise<unknown>): Loop {
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const run = async () => {
      timer = undefined;
      await work().catch((e: unknown) => this.failed(source, e));
      if (!stopped) timer = setTimeout(() => void run(), everyMs).unref();
    };
    const loop: Loop = {
      stop: () => {
        stopped = true;
        clearTimeout(timer);
        this.loops.delete(loop);
      },
    };
    this.loops.add(loop);
    timer = setTimeout(() => void run(), 0).unref();
    return loop;
  }

  onModuleDestroy() {
    for (const loop of [...this.loops]) loop.stop();
  }
}
