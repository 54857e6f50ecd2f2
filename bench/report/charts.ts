// Charts of a run as SVG: Vega-Lite specs compiled and rendered by Vega in
// Node (no browser, no canvas: Vega's SVG string renderer).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { ScenarioResult } from '../scenarios/context.js';

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 420, height: 240, background: 'white' } as const;

function charts(sc: Record<string, ScenarioResult>): Array<{ file: string; title: string; spec: TopLevelSpec }> {
  const out: Array<{ file: string; title: string; spec: TopLevelSpec }> = [];
  const polling = sc.polling?.steps.filter((s) => !s.params.capacity) ?? [];
  if (polling.length) {
    const rows = polling.map((s) => ({ mode: String(s.params.mode), rate: Number(s.params.rate), p50: s.latency?.p50Ms, bytes: s.metrics.bytesPerMessage, cpu: s.metrics.serverCpuMsPerMessage }));
    const line = (field: string, title: string, file: string, yTitle: string) =>
      out.push({
        file,
        title,
        spec: {
          ...base,
          title,
          data: { values: rows.filter((r) => typeof (r as Record<string, unknown>)[field] === 'number' && ((r as Record<string, unknown>)[field] as number) > 0) },
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'rate', type: 'quantitative', scale: { type: 'log' }, title: 'messages/s on the channel' },
            y: { field, type: 'quantitative', scale: { type: 'log' }, title: yTitle },
            color: { field: 'mode', type: 'nominal', title: null },
          },
        },
      });
    line('p50', 'Polling vs push: end-to-end latency p50', 'polling-latency.svg', 'p50 latency, ms (log)');
    line('bytes', 'Polling vs push: wire bytes per delivered message (both ways)', 'polling-bytes.svg', 'bytes per message (log)');
    line('cpu', 'Polling vs push: server CPU per delivered message', 'polling-cpu.svg', 'CPU ms per message (log)');
  }
  const fo = sc.fanout?.steps ?? [];
  if (fo.length)
    out.push({
      file: 'fanout.svg',
      title: 'Fan-out: deliveries/s against offered rate, hub vs baseline',
      spec: {
        ...base,
        width: 200,
        height: 180,
        title: 'Fan-out: deliveries/s (dashed: offered)',
        data: {
          values: fo.flatMap((s) => [
            { config: `${s.params.subscribers} subs × ${s.params.replicas} replica(s)`, rate: Number(s.params.rate), side: s.side, perS: s.deliveredPerS },
            { config: `${s.params.subscribers} subs × ${s.params.replicas} replica(s)`, rate: Number(s.params.rate), side: 'offered', perS: s.offeredPerS },
          ]),
        },
        facet: { field: 'config', type: 'nominal', title: null },
        columns: 2,
        spec: {
          width: 200,
          height: 160,
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'rate', type: 'quantitative', scale: { type: 'log' }, title: 'messages/s published' },
            y: { field: 'perS', type: 'quantitative', title: 'deliveries/s' },
            color: { field: 'side', type: 'nominal', title: null },
            strokeDash: { condition: { test: "datum.side === 'offered'", value: [4, 3] }, value: [1, 0] },
          },
        },
      } as unknown as TopLevelSpec,
    });
  const scal = sc.scaling?.summary as Record<string, { replicas: number; deliveriesPerS: number | null; serverCpuSecondsPer1000Deliveries: number | null }> | undefined;
  if (scal) {
    const rows = ['1', '2', '3'].map((k) => scal[k]).filter((r) => r && r.deliveriesPerS !== null);
    out.push({
      file: 'scaling.svg',
      title: 'Scaling: deliveries/s kept up and CPU per 1,000 deliveries by replicas',
      spec: {
        ...base,
        title: 'Scaling (one 2-core machine): deliveries/s kept up, and CPU-s per 1,000',
        data: {
          values: rows.flatMap((r) => [
            { replicas: r.replicas, what: 'deliveries/s kept up', v: r.deliveriesPerS },
            { replicas: r.replicas, what: 'server CPU-s per 1,000 deliveries', v: r.serverCpuSecondsPer1000Deliveries },
          ]),
        },
        facet: { field: 'what', type: 'nominal', title: null },
        spec: { width: 200, height: 180, mark: 'bar', encoding: { x: { field: 'replicas', type: 'ordinal' }, y: { field: 'v', type: 'quantitative', title: null } } },
        resolve: { scale: { y: 'independent' } },
      } as unknown as TopLevelSpec,
    });
  }
  const pub = sc.publish?.steps ?? [];
  if (pub.length)
    out.push({
      file: 'publish.svg',
      title: 'Publish path: persisted publishes/s by step',
      spec: {
        ...base,
        height: 260,
        title: 'Persisted publishes/s, one replica',
        data: { values: pub.map((s) => ({ step: s.name, perS: s.metrics.publishesPerS })) },
        mark: 'bar',
        encoding: { y: { field: 'step', type: 'nominal', sort: null, title: null }, x: { field: 'perS', type: 'quantitative', title: 'publishes/s' } },
      },
    });
  return out;
}

/** Writes every chart into `dir`; returns their file names and titles. */
export async function writeCharts(dir: string, sc: Record<string, ScenarioResult>): Promise<Array<{ file: string; title: string }>> {
  mkdirSync(dir, { recursive: true });
  const written: Array<{ file: string; title: string }> = [];
  for (const c of charts(sc)) {
    writeFileSync(path.join(dir, c.file), await renderSvg(c.spec));
    written.push({ file: c.file, title: c.title });
  }
  return written;
}
