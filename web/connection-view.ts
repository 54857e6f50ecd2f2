import type { ConnectionState, CrosswireClient, Recovery } from '../client/index.js';
import type { Banner } from './banner.js';
import { byId, show } from './dom.js';
import { plural } from './format.js';

/** How long the "reconnected" report stays: long enough to be read after looking away. */
const RECOVERY_SHOWN_MS = 20_000;

export function recoveryText(r: Recovery): string {
  const what = r.from && r.from !== r.to ? `replica ${r.from} gone` : 'connection dropped';
  return `${what} (${r.reason}), reconnected to ${r.to}, ${plural(r.missed, 'missed message')} fetched`;
}

/** The header's connection state and replica id, and the banner while it reconnects. */
export class ConnectionView {
  private readonly root = byId('conn');
  private readonly status = byId('conn-status');
  private readonly replica = byId('replica-id');
  private readonly on = byId('conn-on');

  constructor(private readonly banner: Banner) {}

  /** Follows `client` until the returned function is called. */
  bind(client: CrosswireClient): () => void {
    show(this.root, true);
    const offState = client.state.subscribe((s) => this.render(s));
    const offRecovered = client.onRecovered((r) => this.banner.show('info', recoveryText(r), RECOVERY_SHOWN_MS));
    return () => {
      offState();
      offRecovered();
      show(this.root, false);
    };
  }

  private render(s: ConnectionState) {
    this.root.dataset.status = s.status;
    this.status.textContent = s.status;
    // Only a replica that holds the socket now is shown; while reconnecting the banner names the lost one.
    this.replica.textContent = s.status === 'connected' ? s.replicaId : '';
    show(this.on, s.status === 'connected');
    if (s.status === 'reconnecting') {
      const lost = s.replicaId ? `lost replica ${s.replicaId}` : 'cannot reach the hub';
      this.banner.show('warn', `${lost} (${s.reason}); reconnecting… messages you send wait until then`);
    } else if (s.status === 'connected' && this.banner.kind === 'warn') {
      this.banner.hide();
    }
  }
}
