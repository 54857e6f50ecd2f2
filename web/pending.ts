import type { MessageDto } from '../client/index.js';
import { byId, el } from './dom.js';

/**
 * What the user sent that is not on screen yet: "sending…" until the hub
 * acknowledges it and its message shows in the list (the message itself comes
 * through the subscription like everyone else's), or why it failed. The
 * client keeps retrying a publish across reconnects, so while offline these
 * just wait.
 */
export class PendingSends {
  private readonly list = byId<HTMLOListElement>('pending');
  /** Acknowledged, waiting for their seq to be shown. */
  private readonly acked = new Map<number, HTMLLIElement>();

  constructor(private readonly isShown: (seq: number) => boolean) {
    this.list.replaceChildren();
  }

  track(text: string, published: Promise<MessageDto>): void {
    const status = el('span', { class: 'status' }, 'sending…');
    const item = el('li', { class: 'pending-item', 'data-testid': 'pending-message' }, el('div', { class: 'text' }, text), status);
    this.list.append(item);
    published.then(
      (m) => {
        if (this.isShown(m.seq)) item.remove();
        else this.acked.set(m.seq, item);
      },
      (e: Error) => {
        item.classList.add('failed');
        const dismiss = el('button', { type: 'button', class: 'link' }, 'dismiss');
        dismiss.addEventListener('click', () => item.remove());
        status.replaceChildren(`not sent: ${e.message} `, dismiss);
      },
    );
  }

  shown(seq: number): void {
    this.acked.get(seq)?.remove();
    this.acked.delete(seq);
  }

  dispose(): void {
    this.list.replaceChildren();
    this.acked.clear();
  }
}
