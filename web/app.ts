import { type ChannelDto, type CrosswireClient, connect } from '../client/index.js';
import type { AuthResult } from './api.js';
import { AuthView } from './auth-view.js';
import { Banner } from './banner.js';
import { ChannelView } from './channel-view.js';
import { ChannelsView } from './channels-view.js';
import { ConnectionView } from './connection-view.js';
import { byId, show } from './dom.js';
import { shortId } from './format.js';
import { Names } from './names.js';
import { type Session, clearSession, loadSession, saveSession } from './session.js';

interface SignedIn {
  session: Session;
  client: CrosswireClient;
  names: Names;
  unbind: () => void;
  channel?: ChannelView;
}

/** The chat page: signed out (the form) or signed in (one client, the channel list, at most one open channel). */
export class App {
  private readonly banner = new Banner();
  private readonly auth = new AuthView((r) => this.signedIn(r));
  private readonly connection = new ConnectionView(this.banner);
  private readonly channels = new ChannelsView({
    open: (c) => this.open(c),
    ownerLabel: (id) => (id === this.current?.session.user.id ? 'yours' : `by ${this.current?.names.label(id) ?? shortId(id)}`),
    unauthorized: () => this.signOut('Your session has ended: sign in again.'),
  });
  private current?: SignedIn;

  boot(): void {
    byId('sign-out').addEventListener('click', () => this.signOut());
    byId('back').addEventListener('click', () => this.showList());
    const session = loadSession();
    if (session) this.start(session);
    else this.auth.open();
  }

  private signedIn(r: AuthResult) {
    saveSession(r);
    this.start(r);
  }

  private start(session: Session) {
    this.auth.close();
    const client = connect({ url: location.origin, token: session.token });
    const names = new Names();
    names.learn(session.user);
    const unbindConnection = this.connection.bind(client);
    const unbindState = client.state.subscribe((s) => {
      // A final close we did not ask for: the token expired or was revoked, or the handshake was refused.
      if (s.status === 'closed' && this.current?.client === client) this.signOut(`Signed out: ${s.reason}. Sign in again.`);
    });
    this.current = { session, client, names, unbind: () => (unbindState(), unbindConnection()) };
    byId('me').textContent = session.user.username;
    show(byId('me-box'), true);
    show(byId('app'), true);
    this.showList();
    void this.channels.start(session.token);
  }

  private open(channel: ChannelDto) {
    const s = this.current;
    if (!s) return;
    document.body.classList.add('in-channel');
    if (s.channel?.channel.id === channel.id) return;
    s.channel?.dispose();
    s.channel = new ChannelView(channel, { client: s.client, token: s.session.token, meId: s.session.user.id, names: s.names });
    this.channels.setActive(channel.id);
    show(byId('chat-empty'), false);
    show(byId('chat-body'), true);
    void s.channel.open();
  }

  /** On a phone-sized screen the list and the channel take turns; on a wide one this only matters there. */
  private showList() {
    document.body.classList.remove('in-channel');
  }

  private signOut(why?: string) {
    const s = this.current;
    this.current = undefined;
    if (s) {
      s.channel?.dispose();
      s.unbind();
      s.client.close();
    }
    clearSession();
    this.channels.stop();
    this.banner.hide();
    show(byId('chat-body'), false);
    show(byId('chat-empty'), true);
    show(byId('app'), false);
    show(byId('me-box'), false);
    this.auth.open(why);
  }
}
