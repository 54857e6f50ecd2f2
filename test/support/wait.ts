/** Polls a state until it holds (for states that have no event, like readiness or a metric). */
export async function until(what: string, check: () => Promise<boolean> | boolean, ms = 20_000, every = 100): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, every));
  }
  throw new Error(`timed out waiting for ${what}`);
}
