import { byId, show } from './dom.js';

export type BannerKind = 'info' | 'warn' | 'error';

/** The one line under the header that says what happened to the connection or the session. */
export class Banner {
  private readonly root = byId('banner');
  private readonly text = byId('banner-text');
  private timer?: ReturnType<typeof setTimeout>;

  constructor() {
    byId('banner-close').addEventListener('click', () => this.hide());
  }

  get kind(): BannerKind | undefined {
    return this.root.hidden ? undefined : (this.root.dataset.kind as BannerKind);
  }

  /** `hideAfterMs`: a report that is news for a while; without it the banner stays until replaced. */
  show(kind: BannerKind, text: string, hideAfterMs?: number): void {
    clearTimeout(this.timer);
    this.root.dataset.kind = kind;
    this.text.textContent = text;
    show(this.root, true);
    if (hideAfterMs !== undefined) this.timer = setTimeout(() => this.hide(), hideAfterMs);
  }

  hide(): void {
    clearTimeout(this.timer);
    show(this.root, false);
  }
}
