import { KeyedBatcher } from './keyed-batcher.js';

/** A batcher whose runs wait until released, recording each batch. */
function harness(max = 100) {
  const runs: Array<{ key: string; items: number[]; release: () => void }> = [];
  const batcher = new KeyedBatcher<number, string>(
    (key, items) =>
      new Promise((resolve, reject) => {
        runs.push({ key, items, release: () => (items.includes(-1) ? reject(new Error('down')) : resolve(items.map((i) => (i === 13 ? new Error('unlucky') : `${key}:${i}`)))) });
      }),
    max,
  );
  return { batcher, runs };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('KeyedBatcher (group commit queue)', () => {
  it('what arrives while a batch is written goes together into the next one, in arrival order, each answered with its own result', async () => {
    const { batcher, runs } = harness();
    const first = batcher.submit('c', 1);
    const waiting = [2, 3, 4].map((i) => batcher.submit('c', i));
    await tick();
    expect(runs.map((r) => r.items)).toEqual([[1]]);
    runs[0].release();
    await tick();
    expect(runs.map((r) => r.items)).toEqual([[1], [2, 3, 4]]);
    runs[1].release();
    expect(await first).toBe('c:1');
    expect(await Promise.all(waiting)).toEqual(['c:2', 'c:3', 'c:4']);
  });

  it('keys run independently; one batch per key in flight; at most max items a batch', async () => {
    const { batcher, runs } = harness(2);
    const all = [batcher.submit('a', 1), batcher.submit('b', 1), batcher.submit('a', 2), batcher.submit('a', 3), batcher.submit('a', 4)];
    await tick();
    expect(runs.map((r) => `${r.key}${r.items.join(',')}`)).toEqual(['a1', 'b1']);
    runs[0].release();
    await tick();
    runs[2].release();
    await tick();
    runs[1].release();
    runs[3].release();
    expect(runs.map((r) => `${r.key}${r.items.join(',')}`)).toEqual(['a1', 'b1', 'a2,3', 'a4']);
    expect(await Promise.all(all)).toEqual(['a:1', 'b:1', 'a:2', 'a:3', 'a:4']);
  });

  it('an item failing fails alone; a batch failing fails its items only, and the next batch still runs', async () => {
    const { batcher, runs } = harness();
    const unlucky = batcher.submit('c', 13);
    await tick();
    const doomed = [batcher.submit('c', -1), batcher.submit('c', 5)];
    runs[0].release();
    await expect(unlucky).rejects.toThrow('unlucky');
    await tick();
    const after = batcher.submit('c', 6);
    runs[1].release();
    await expect(doomed[0]).rejects.toThrow('down');
    await expect(doomed[1]).rejects.toThrow('down');
    await tick();
    runs[2].release();
    expect(await after).toBe('c:6');
  });
});
