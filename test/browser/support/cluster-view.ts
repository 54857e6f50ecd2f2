import type { Browser, BrowserContext, Page } from 'playwright-core';
import { screenshotPath, watchProblems } from './browser.js';

export interface ReplicaRow {
  id: string;
  status: string;
  sockets: number;
}

/** The cluster view (web/cluster.html) in a browser context of its own. */
export class ClusterView {
  readonly problems: string[];

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
  ) {
    this.problems = watchProblems(page, 'cluster view');
  }

  static async open(browser: Browser, url: string): Promise<ClusterView> {
    const context = await browser.newContext({ viewport: { width: 1000, height: 520 } });
    context.setDefaultTimeout(20_000);
    const view = new ClusterView(context, await context.newPage());
    await view.page.goto(`${url}/cluster`);
    return view;
  }

  async enterToken(token: string): Promise<void> {
    await this.page.getByTestId('admin-token').fill(token);
    await this.page.getByTestId('admin-submit').click();
  }

  async rows(): Promise<ReplicaRow[]> {
    return this.page.getByTestId('replica').evaluateAll((trs) =>
      trs.map((tr) => ({
        id: tr.getAttribute('data-replica-id') ?? '',
        status: tr.getAttribute('data-status') ?? '',
        sockets: Number(tr.querySelector('[data-testid=replica-sockets]')?.textContent),
      })),
    );
  }

  async goneIds(): Promise<string[]> {
    return this.page.getByTestId('gone-replica').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-replica-id') ?? ''));
  }

  screenshot(name: string): Promise<Buffer> {
    return this.page.screenshot({ path: screenshotPath(name) });
  }

  close(): Promise<void> {
    return this.context.close();
  }
}
