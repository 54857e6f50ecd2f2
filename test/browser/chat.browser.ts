import { jest } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { api, registerUser } from '../support/client.js';
import { type Cluster, startCluster, until } from '../cluster/support/cluster.js';
import { Haproxy } from '../cluster/support/haproxy.js';
import { ARTIFACTS, assertWebBuildFresh, launchChromium } from './support/browser.js';
import { ChatPage, PHONE } from './support/chat-page.js';
import { ClusterView } from './support/cluster-view.js';

// The "done when", in a real browser: people on different replicas
// chat through HAProxy, one replica is SIGKILLed, nothing is lost or repeated,
// a browser without WebSocket gets by on long-polling, and the cluster view
// shows where the sockets went. One cluster and one Chromium for the file;
// the tests run in order, each building on the one before.

jest.setTimeout(90_000);

const ADMIN_TOKEN = 'browser-test-admin-token-'.padEnd(48, 'x');
const CHANNEL = 'general';
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
/** What each one says, in this order (real sentences: the screenshots end up in the README). */
const LINES = {
  alice: ['Morning! Is the release out?', 'Great, I will tell the team.', 'Writing this while my replica is down…', 'Back, and nothing is missing.'],
  bob: ['Morning!', 'Tagging it now.', 'v1.4.0 is tagged.', 'Changelog is up.', 'Docs are deployed too.', 'All green here.', 'Welcome, carol!'],
  carol: ['Hi all, on a train where WebSocket is blocked.'],
};

describe('the chat page and the cluster view in Chromium, through HAProxy in front of three replicas', () => {
  let cluster: Cluster;
  const lb = new Haproxy();
  let browser: Browser;
  let alice: ChatPage;
  let bob: ChatPage;
  let carol: ChatPage;
  let view: ClusterView;
  let killed: string;
  const sent: string[] = [];
  const everyone = () => [alice, bob, carol].filter(Boolean);
  /** `who` sends its line `i` and waits until its page shows it. */
  async function say(who: ChatPage, i: number) {
    const text = LINES[who.name as keyof typeof LINES][i];
    await who.send(text);
    sent.push(text);
  }

  beforeAll(async () => {
    assertWebBuildFresh();
    browser = await launchChromium();
    cluster = await startCluster(3, { ADMIN_TOKEN });
    await lb.start(cluster.replicas);
  });

  afterEach(() => {
    // Whatever else happened: no script error and nothing the CSP refused, on any page.
    expect([...everyone(), view].filter(Boolean).flatMap((p) => p.problems)).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await lb.stop();
    await cluster?.stop();
    process.stderr.write(`browser tests: screenshots in ${ARTIFACTS}\n`);
  });

  /** Each page shows seq 1..n once, in order, and the same texts. */
  async function everyPageShows(n: number) {
    for (const p of everyone()) await p.waitForCount(n);
    const [first, ...others] = everyone();
    expect(await first.seqs()).toEqual(range(1, n));
    for (const p of others) {
      expect({ who: p.name, seqs: await p.seqs() }).toEqual({ who: p.name, seqs: range(1, n) });
      expect({ who: p.name, texts: await p.texts() }).toEqual({ who: p.name, texts: await first.texts() });
    }
  }

  it('two users sign up in two browsers, land on different replicas, and chat in one channel', async () => {
    alice = await ChatPage.open(browser, lb.url, 'alice');
    await alice.signUp('alice');
    const aliceReplica = await alice.replicaId();
    // sessionStorage keeps the session: a reload stays signed in, on the same replica (HAProxy's cookie).
    await alice.page.reload();
    await alice.byTestId('me').filter({ hasText: 'alice' }).waitFor();
    expect(await alice.replicaId()).toBe(aliceReplica);
    await alice.createChannel(CHANNEL);

    // Each new context gets its replica from HAProxy's rotation: try until it is another one.
    for (let attempt = 1; ; attempt++) {
      const candidate = await ChatPage.open(browser, lb.url, 'bob');
      await candidate.signUp(attempt === 1 ? 'bob' : `bob${attempt}`);
      if ((await candidate.replicaId()) !== aliceReplica) {
        bob = candidate;
        break;
      }
      await candidate.close();
      if (attempt === 6) throw new Error(`six browsers in a row landed on ${aliceReplica}`);
    }
    await bob.openChannel(CHANNEL);
    for (const p of [alice, bob]) await until(`${p.name} to see both online`, async () => (await p.presence()).length === 2);
    expect(await alice.presence()).toEqual([bob.username, 'alice'].sort());

    await say(alice, 0);
    await say(bob, 0);
    await say(alice, 1);
    // Typing is shown on the other page while bob types, then his message.
    await bob.byTestId('composer').pressSequentially(LINES.bob[1]);
    await alice
      .byTestId('typing')
      .filter({ hasText: `${bob.username} is typing` })
      .waitFor();
    await bob.byTestId('send').click();
    await bob.waitForText(LINES.bob[1]);
    sent.push(LINES.bob[1]);

    await everyPageShows(4);
    expect(await alice.texts()).toEqual([LINES.alice[0], LINES.bob[0], LINES.alice[1], LINES.bob[1]]);
    // Authors by name: bob learnt alice's from presence.
    expect(await bob.page.locator('[data-testid=message] .author').allTextContents()).toEqual(['alice', bob.username, 'alice', bob.username]);
  });

  it('SIGKILL of one user’s replica mid-conversation: the page shows the reconnect, lands elsewhere, and has every message once, in order', async () => {
    // A person watching the cluster view (the wrong token first).
    view = await ClusterView.open(browser, lb.url);
    await view.enterToken('not-the-admin-token-'.padEnd(40, 'y'));
    await view.page.getByTestId('admin-error').filter({ hasText: 'refused' }).waitFor();
    await view.enterToken(ADMIN_TOKEN);
    killed = await alice.replicaId();
    await until('the cluster view to show three replicas, alice’s socket among them', async () => {
      const rows = await view.rows();
      return rows.length === 3 && (rows.find((r) => r.id === killed)?.sockets ?? 0) >= 1;
    });

    await say(bob, 2);
    const victim = cluster.replicas.find((r) => r.id === killed)!;
    await victim.kill('SIGKILL');
    // While alice's page reconnects, bob keeps talking and alice writes one (it waits in her outbox).
    await alice.sendNoWait(LINES.alice[2]);
    sent.push(LINES.alice[2]);
    const bobTalks = say(bob, 3).then(() => say(bob, 4));
    await alice
      .byTestId('banner')
      .filter({ hasText: /reconnected to r\d, \d+ missed messages? fetched/ })
      .waitFor({ timeout: 30_000 });
    await bobTalks;
    const now = await alice.replicaId();
    expect(now).not.toBe(killed);
    expect(cluster.replicas.find((r) => r.id === now)?.alive).toBe(true);
    expect(await alice.byTestId('banner').textContent()).toContain(`replica ${killed} gone`);
    await alice.waitForText(LINES.alice[2]);

    await say(bob, 5);
    await say(alice, 3);
    await everyPageShows(sent.length);
    const texts = await alice.texts();
    expect([...texts].sort()).toEqual([...sent].sort());
    // Each sender's messages in the order sent (each waited for the one before).
    expect(texts.filter((t) => LINES.alice.includes(t))).toEqual(LINES.alice.slice(0, 4));
    expect(texts.filter((t) => LINES.bob.includes(t))).toEqual(LINES.bob.slice(0, 6));
    await alice.screenshot('chat-after-replica-killed');
  });

  it('a browser whose WebSocket connections are refused on the network works the same over long-polling', async () => {
    carol = await ChatPage.open(browser, lb.url, 'carol', { viewport: PHONE, refuseWebSocket: true });
    await carol.signUp('carol');
    await carol.replicaId();
    await carol.openChannel(CHANNEL);
    await carol.waitForCount(sent.length);
    // socket.io tried to upgrade and the network refused: everything since came over long-polling.
    await until('carol’s page to try a WebSocket', () => carol.refusedWebSockets > 0);

    await say(carol, 0);
    await say(bob, 6);
    await everyPageShows(sent.length);
    for (const p of everyone()) await until(`${p.name} to see three online`, async () => (await p.presence()).length === 3);
    await carol.screenshot('chat-phone-long-polling');
    await alice.screenshot('chat-three-users');
  });

  it('older messages load as the user scrolls up (history before the first shown)', async () => {
    const call = api(lb.url);
    const writer = await registerUser(call, 'archivist');
    const channel = (await call('POST', '/api/channels', { name: 'archive' }, writer.token)).body;
    for (let i = 1; i <= 120; i++) {
      const res = await call('POST', `/api/channels/${channel.id}/messages`, { body: { text: `old ${i}` } }, writer.token);
      expect(res.status).toBe(201);
    }
    await bob.openChannel('archive');
    // The latest page first, then a page per scroll to the top.
    await bob.waitForSeqs(range(71, 120));
    for (const first of [21, 1]) {
      await bob.page.locator('#scroller').hover();
      await bob.page.mouse.wheel(0, -100_000);
      await bob.waitForSeqs(range(first, 120));
    }
    expect(await bob.texts()).toEqual(range(1, 120).map((i) => `old ${i}`));
  });

  it('the cluster view shows the killed replica gone and its sockets on the others', async () => {
    const live = cluster.replicas.filter((r) => r.alive).map((r) => r.id);
    await until('the cluster view to list only the live replicas, holding every page’s socket', async () => {
      const rows = await view.rows();
      const sockets = rows.reduce((n, r) => n + r.sockets, 0);
      return rows.map((r) => r.id).join() === live.join() && sockets >= everyone().length;
    });
    expect(await view.goneIds()).toEqual([killed]);
    expect(await view.page.getByTestId('redis-state').textContent()).toBe('ok');
    expect(await view.page.getByTestId('postgres-state').textContent()).toBe('ok');
    await view.screenshot('cluster-view');
  });

  it('a name two owners use is listed twice, each entry saying whose it is; creating it again is refused in words', async () => {
    await bob.createChannel(CHANNEL); // alice owns one of that name already
    const entries = bob.page.locator(`[data-testid=channel-item][data-channel-name="${CHANNEL}"]`);
    await until('bob’s list to show both', async () => (await entries.count()) === 2);
    // bob's page learnt alice's name from presence.
    expect((await entries.getByTestId('channel-owner').allTextContents()).sort()).toEqual(['by alice', 'yours']);
    await bob.byTestId('channel-name').fill(CHANNEL);
    await bob.byTestId('create-channel').click();
    await bob.page.locator('#channels-error').filter({ hasText: 'you already have a channel with that name' }).waitFor();
  });
});
