import type { ChannelDto, CrosswireClient, Subscription } from '../client/index.js';
import { ApiError, getChannel } from './api.js';
import { Composer } from './composer.js';
import { byId, show } from './dom.js';
import { MessageList, PAGE } from './message-list.js';
import type { Names } from './names.js';
import { PendingSends } from './pending.js';
import { clearPresence, renderPresence } from './presence-view.js';
import { TypingView } from './typing-view.js';

export interface ChannelContext {
  client: CrosswireClient;
  token: string;
  meId: string;
  names: Names;
}

const ENDED: Record<string, string> = {
  deleted: 'This channel was deleted.',
  removed: 'You were removed from this channel.',
  left: 'You left this channel.',
  private: 'This channel became private.',
};

/**
 * One open channel: its subscription (the client hands over each message
 * once, in order, across reconnects), the message list, the composer,
 * presence and typing. Everything it starts, dispose() stops.
 */
export class ChannelView {
  private readonly notice = byId('notice');
  private readonly typing = new TypingView();
  private readonly list: MessageList;
  private readonly pending: PendingSends;
  private readonly composer: Composer;
  private sub?: Subscription;
  private offPresence?: () => void;
  private disposed = false;

  constructor(
    readonly channel: ChannelDto,
    private readonly ctx: ChannelContext,
  ) {
    byId('channel-title').textContent = `#${channel.name}`;
    this.setNotice(undefined);
    this.pending = new PendingSends((seq) => this.list.has(seq));
    this.list = new MessageList(channel.name, {
      names: ctx.names,
      meId: ctx.meId,
      older: (beforeSeq) => ctx.client.history(channel.id, { beforeSeq, limit: PAGE }).then((p) => p.items),
      shown: (seq) => this.pending.shown(seq),
    });
    this.composer = new Composer({
      send: (text) => this.pending.track(text, ctx.client.publish(channel.id, { text })),
      typing: () => ctx.client.typing(channel.id),
    });
  }

  async open(): Promise<void> {
    // The list's copy may be old; a fresher lastSeq opens on the latest page
    // rather than replaying everything since the list was read.
    const fresh = await getChannel(this.ctx.token, this.channel.id).catch((e: unknown) => (e instanceof ApiError && e.status === 404 ? null : this.channel));
    if (this.disposed) return;
    if (!fresh) return this.ended('deleted');
    const sinceSeq = Math.max(0, fresh.lastSeq - PAGE);
    this.list.startAt(sinceSeq + 1);
    this.sub = this.ctx.client.subscribe(this.channel.id, {
      sinceSeq,
      onMessage: (m) => {
        this.list.append(m);
        this.typing.sent(m.authorId);
      },
      onTyping: (user) => {
        this.ctx.names.learn(user);
        this.typing.typing(user);
      },
      onEnded: (reason) => this.ended(reason),
    });
    this.offPresence = this.sub.presence.subscribe((users) => {
      for (const u of users) this.ctx.names.learn(u);
      renderPresence(users, this.ctx.meId);
    });
    this.composer.focus();
    try {
      await this.sub.ready;
      if (!this.disposed) this.list.caughtUp();
    } catch (e) {
      if (!this.disposed) this.ended((e as Error).message);
    }
  }

  dispose(): void {
    this.disposed = true;
    this.sub?.unsubscribe();
    this.offPresence?.();
    this.list.dispose();
    this.pending.dispose();
    this.composer.dispose();
    this.typing.dispose();
    clearPresence();
  }

  private ended(reason: string) {
    this.composer.setEnabled(false);
    this.setNotice(ENDED[reason] ?? `This channel cannot be opened: ${reason}`);
  }

  private setNotice(text: string | undefined) {
    this.notice.textContent = text ?? '';
    show(this.notice, !!text);
  }
}
