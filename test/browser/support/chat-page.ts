import type { Browser, BrowserContext, Page } from 'playwright-core';
import { until } from '../../support/wait.js';
import { screenshotPath, watchProblems } from './browser.js';

export const PASSWORD = 'password123';
export const PHONE = { width: 390, height: 844 };

export interface OpenOptions {
  viewport?: { width: number; height: number };
  /** Refuse every WebSocket on the network (the page must fall back to long-polling). */
  refuseWebSocket?: boolean;
}

/** The chat page (web/index.html) in a browser context of its own, driven through its data-testid hooks. */
export class ChatPage {
  username = '';
  /** WebSocket connections the page tried and the network refused. */
  refusedWebSockets = 0;
  readonly problems: string[];

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    readonly name: string,
  ) {
    this.problems = watchProblems(page, name);
  }

  static async open(browser: Browser, url: string, name: string, opts: OpenOptions = {}): Promise<ChatPage> {
    const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1100, height: 720 } });
    context.setDefaultTimeout(20_000);
    const chat = new ChatPage(context, await context.newPage(), name);
    if (opts.refuseWebSocket) {
      // Not connected to the server and closed at once: to the page, a WebSocket that never works.
      await context.routeWebSocket(/.*/, (ws) => {
        chat.refusedWebSockets++;
        return ws.close();
      });
    }
    await chat.page.goto(url);
    return chat;
  }

  byTestId(id: string) {
    return this.page.getByTestId(id);
  }

  async signUp(username: string): Promise<void> {
    this.username = username;
    await this.byTestId('username').fill(username);
    await this.byTestId('password').fill(PASSWORD);
    await this.byTestId('register').click();
    await this.byTestId('me').filter({ hasText: username }).waitFor();
  }

  /** The replica holding the page's socket, once connected. */
  async replicaId(): Promise<string> {
    await this.page.locator('#conn[data-status="connected"]').waitFor();
    return (await this.byTestId('replica-id').textContent()) ?? '';
  }

  async createChannel(name: string): Promise<void> {
    await this.byTestId('channel-name').fill(name);
    await this.byTestId('create-channel').click();
    await this.page
      .locator('#channel-title')
      .filter({ hasText: `#${name}` })
      .waitFor();
  }

  async openChannel(name: string): Promise<void> {
    await this.page.getByRole('button', { name: 'Refresh the list' }).click();
    await this.page.locator(`[data-testid=channel-item][data-channel-name="${name}"]`).click();
    await this.page
      .locator('#channel-title')
      .filter({ hasText: `#${name}` })
      .waitFor();
  }

  /** Sends and waits until the message is on this page (so the next send comes after it). */
  async send(text: string): Promise<void> {
    await this.byTestId('composer').fill(text);
    await this.byTestId('send').click();
    await this.waitForText(text);
  }

  /** Sends without waiting for it to be stored (it may sit in the client's outbox). */
  async sendNoWait(text: string): Promise<void> {
    await this.byTestId('composer').fill(text);
    await this.byTestId('composer').press('Enter');
  }

  waitForText(text: string): Promise<void> {
    const exact = new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
    return this.byTestId('message-text').filter({ hasText: exact }).first().waitFor();
  }

  /** Every message element's data-seq, in DOM order. */
  async seqs(): Promise<number[]> {
    return (await this.byTestId('message').evaluateAll((els) => els.map((e) => e.getAttribute('data-seq')))).map(Number);
  }

  async texts(): Promise<string[]> {
    return this.byTestId('message-text').allTextContents();
  }

  /** Until the page shows exactly these seqs, in this order; a timeout says what it showed instead. */
  async waitForSeqs(expected: number[], timeoutMs = 20_000): Promise<void> {
    const want = expected.join();
    let shown = '';
    try {
      await until(`${this.name} to show seqs ${expected[0]}..${expected.at(-1)}`, async () => (shown = (await this.seqs()).join()) === want, timeoutMs);
    } catch (e) {
      throw new Error(`${(e as Error).message}; it shows [${shown}], and says "${await this.page.locator('#history-state').textContent()}"`, { cause: e });
    }
  }

  async waitForCount(n: number, timeoutMs = 30_000): Promise<void> {
    await until(`${this.name} to show ${n} messages`, async () => (await this.byTestId('message').count()) >= n, timeoutMs);
  }

  async presence(): Promise<string[]> {
    return (await this.byTestId('presence-user').allTextContents()).sort();
  }

  screenshot(name: string): Promise<Buffer> {
    return this.page.screenshot({ path: screenshotPath(name) });
  }

  close(): Promise<void> {
    return this.context.close();
  }
}
