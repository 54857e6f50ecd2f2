import type { ChannelDto } from '../client/index.js';
import { ApiError, createChannel, listChannels } from './api.js';
import { byId, el, show } from './dom.js';

export interface ChannelsHooks {
  open(channel: ChannelDto): void;
  /** Who owns a channel, in a word or two: shown beside a name that several owners use. */
  ownerLabel(ownerId: string): string;
  /** The hub refused the token (expired, user deleted): the session is over. */
  unauthorized(): void;
}

/**
 * The channel list (public channels and the user's own, by name) and the form
 * that creates one. The hub pushes no "channel created" event, so the list is
 * read when signed in, on ↻, when the tab is shown again, and after creating one.
 */
export class ChannelsView {
  private readonly list = byId<HTMLUListElement>('channel-list');
  private readonly more = byId<HTMLButtonElement>('more-channels');
  private readonly form = byId<HTMLFormElement>('create-form');
  private readonly name = byId<HTMLInputElement>('channel-name');
  private readonly error = byId('channels-error');
  private cursor: string | null = null;
  private shown: ChannelDto[] = [];
  private activeId?: string;
  private token = '';

  constructor(private readonly hooks: ChannelsHooks) {
    byId('refresh-channels').addEventListener('click', () => void this.load());
    // Back to the tab: channels made meanwhile are likely what the user came for.
    document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && this.token && void this.load());
    this.more.addEventListener('click', () => void this.load(this.cursor ?? undefined));
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.create();
    });
  }

  start(token: string): Promise<void> {
    this.token = token;
    return this.load();
  }

  stop(): void {
    this.token = '';
    this.activeId = undefined;
    this.shown = [];
    this.list.replaceChildren();
    show(this.more, false);
  }

  setActive(id: string | undefined): void {
    this.activeId = id;
    for (const b of this.list.querySelectorAll<HTMLButtonElement>('[data-channel-id]')) {
      if (b.dataset.channelId === id) b.setAttribute('aria-current', 'true');
      else b.removeAttribute('aria-current');
    }
  }

  /** Without `cursor`: the list from the top, replacing what is shown; with it, the next page appended. */
  private async load(cursor?: string) {
    const token = this.token;
    try {
      const page = await listChannels(token, cursor);
      if (token !== this.token) return;
      this.shown = cursor ? [...this.shown, ...page.items] : page.items;
      this.render();
      this.cursor = page.nextCursor;
      show(this.more, page.nextCursor !== null);
      this.setError(undefined);
    } catch (e) {
      this.failed(e);
    }
  }

  private async create() {
    const button = this.form.querySelector('button')!;
    button.disabled = true;
    try {
      const channel = await createChannel(this.token, this.name.value.trim());
      this.name.value = '';
      this.setError(undefined);
      await this.load();
      this.hooks.open(channel);
    } catch (e) {
      this.failed(e, e instanceof ApiError && e.status === 409 ? 'you already have a channel with that name' : undefined);
    } finally {
      button.disabled = false;
    }
  }

  /** Names are unique per owner only: where several owners use one, each entry says whose it is. */
  private render() {
    const uses = new Map<string, number>();
    for (const c of this.shown) uses.set(c.name, (uses.get(c.name) ?? 0) + 1);
    this.list.replaceChildren(...this.shown.map((c) => this.item(c, uses.get(c.name)! > 1)));
  }

  private item(c: ChannelDto, shared: boolean) {
    const button = el(
      'button',
      { type: 'button', class: 'channel', 'data-testid': 'channel-item', 'data-channel-id': c.id, 'data-channel-name': c.name, 'aria-current': c.id === this.activeId && 'true' },
      el('span', { class: 'hash', 'aria-hidden': 'true' }, '#'),
      c.name,
      shared && el('span', { class: 'owner', 'data-testid': 'channel-owner' }, this.hooks.ownerLabel(c.ownerId)),
      c.visibility === 'private' && el('span', { class: 'badge' }, 'private'),
    );
    button.addEventListener('click', () => this.hooks.open(c));
    return el('li', {}, button);
  }

  private failed(e: unknown, text?: string) {
    if (e instanceof ApiError && e.status === 401) return this.hooks.unauthorized();
    this.setError(text ?? (e as Error).message);
  }

  private setError(text: string | undefined) {
    this.error.textContent = text ?? '';
    show(this.error, !!text);
  }
}
