import type { MessageDto } from '../client/index.js';
import { byId, el } from './dom.js';
import { bodyText, timeLabel } from './format.js';
import type { Names } from './names.js';

/** Messages per history page, and how many the page opens a channel with. */
export const PAGE = 50;
/** Within this many pixels of the top, older messages are fetched; of the bottom, new ones keep it scrolled down. */
const NEAR_PX = 80;

export interface MessageListOptions {
  names: Names;
  meId: string;
  /** The messages before `beforeSeq`, oldest first (REST history). */
  older(beforeSeq: number): Promise<MessageDto[]>;
  /** A message is now on screen (the composer's pending copy can go). */
  shown(seq: number): void;
}

/**
 * One channel's messages in seq order: live ones appended as the client hands
 * them over (each once, in order), older ones prepended from history when the
 * user scrolls up. Seqs from `boundary` on come from the subscription, the
 * ones below it from history, so the two never overlap.
 */
export class MessageList {
  private readonly scroller = byId('scroller');
  private readonly list = byId<HTMLOListElement>('messages');
  private readonly state = byId('history-state');
  private readonly abort = new AbortController();
  private boundary = 1;
  private loading = false;
  private live = false;

  constructor(
    private readonly channelName: string,
    private readonly opts: MessageListOptions,
  ) {
    this.list.replaceChildren();
    this.setState('Loading…');
    const signal = this.abort.signal;
    this.scroller.addEventListener('scroll', () => this.scroller.scrollTop < NEAR_PX && void this.loadOlder(), { signal, passive: true });
    const offNames = opts.names.onLearnt((id, name) => {
      for (const a of this.list.querySelectorAll<HTMLElement>(`.author[data-author-id="${CSS.escape(id)}"]`)) a.textContent = name;
    });
    signal.addEventListener('abort', offNames);
  }

  /** The first seq the subscription brings (sinceSeq + 1). */
  startAt(boundary: number): void {
    this.boundary = boundary;
  }

  /** The subscription caught up: show the latest, and fill the screen from history if it is short. */
  caughtUp(): void {
    this.live = true;
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.updateState();
    if (this.scroller.scrollHeight <= this.scroller.clientHeight) void this.loadOlder();
  }

  append(m: MessageDto): void {
    const atBottom = this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < NEAR_PX;
    this.list.append(this.render(m));
    if (atBottom || m.authorId === this.opts.meId) this.scroller.scrollTop = this.scroller.scrollHeight;
    if (this.live) this.updateState();
    this.opts.shown(m.seq);
  }

  has(seq: number): boolean {
    return this.list.querySelector(`[data-seq="${seq}"]`) !== null;
  }

  dispose(): void {
    this.abort.abort();
    this.list.replaceChildren();
    this.setState('');
  }

  private async loadOlder() {
    // Only once live: before that the subscription is still bringing the latest page.
    if (!this.live || this.loading || this.boundary <= 1) return;
    this.loading = true;
    this.setState('Loading older messages…');
    try {
      const items = await this.opts.older(this.boundary);
      if (this.abort.signal.aborted) return;
      this.prepend(items);
      this.boundary = items.length > 0 ? items[0].seq : 1;
      this.updateState();
    } catch (e) {
      if (!this.abort.signal.aborted) this.setState(`Could not load older messages (${(e as Error).message}); scroll up to try again.`);
      return;
    } finally {
      this.loading = false;
    }
    // A screen not yet full cannot be scrolled: keep reading until it is, or until the start.
    if (this.scroller.scrollHeight <= this.scroller.clientHeight) void this.loadOlder();
  }

  private prepend(items: MessageDto[]) {
    const fromBottom = this.scroller.scrollHeight - this.scroller.scrollTop;
    this.list.prepend(...items.map((m) => this.render(m)));
    // Keep what the user was reading where it was.
    this.scroller.scrollTop = this.scroller.scrollHeight - fromBottom;
  }

  private render(m: MessageDto): HTMLLIElement {
    const mine = m.authorId === this.opts.meId;
    return el(
      'li',
      { class: mine ? 'message mine' : 'message', 'data-testid': 'message', 'data-seq': m.seq },
      el(
        'div',
        { class: 'meta' },
        el('span', { class: 'author', 'data-author-id': m.authorId }, this.opts.names.label(m.authorId)),
        el('time', { datetime: m.createdAt, title: new Date(m.createdAt).toLocaleString() }, timeLabel(m.createdAt)),
      ),
      el('div', { class: 'text', 'data-testid': 'message-text' }, bodyText(m.body)),
    );
  }

  private updateState() {
    const empty = this.list.childElementCount === 0;
    this.setState(this.boundary > 1 ? 'Scroll up for older messages' : empty ? `No messages in #${this.channelName} yet: say hello.` : `The start of #${this.channelName}.`);
  }

  private setState(text: string) {
    this.state.textContent = text;
  }
}
