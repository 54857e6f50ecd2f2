/**
 * `work`'s answer, or `late` once `ms` have passed, whichever comes first;
 * the timer is cleared either way, so a settled race leaves nothing running.
 * `work` itself is not cancelled: it must not reject unhandled (catch first).
 */
export function withTimeout<T, L>(work: Promise<T>, ms: number, late: L): Promise<T | L> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<L>((resolve) => (timer = setTimeout(() => resolve(late), ms)));
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
