// The cluster view's entry (bundled to /assets/cluster.js by scripts/build-web.ts):
// asks for the admin token, then polls /api/cluster every second.
import { Banner } from './banner.js';
import { type ClusterReport, fetchCluster } from './cluster-api.js';
import { ClusterTable } from './cluster-table.js';
import { byId, show } from './dom.js';
import { adminToken } from './session.js';

const EVERY_MS = 1_000;

const banner = new Banner();
const table = new ClusterTable();
const form = byId<HTMLFormElement>('token-form');
const input = byId<HTMLInputElement>('admin-token');
/** Bumped to stop a polling loop: each loop checks it is still the current one. */
let generation = 0;

function ask(why?: string) {
  generation++;
  const error = byId('gate-error');
  error.textContent = why ?? '';
  show(error, !!why);
  show(byId('view'), false);
  show(byId('meta'), false);
  show(byId('forget'), false);
  show(byId('gate'), true);
  banner.hide();
  input.focus();
}

async function poll(token: string) {
  const mine = ++generation;
  let shown = false;
  while (mine === generation) {
    const answer = await fetchCluster(token);
    if (mine !== generation) return;
    if (answer.kind === 'refused') return forget('That admin token was refused.');
    if (answer.kind === 'off') return forget('The cluster view is off on this hub: it has no ADMIN_TOKEN configured.');
    if (answer.kind === 'failed') {
      banner.show('warn', `No fresh figures (${answer.why}); retrying every second. The figures below are from the last answer.`);
    } else {
      if (!shown) showView();
      shown = true;
      banner.hide();
      render(answer.report);
    }
    await new Promise((r) => setTimeout(r, EVERY_MS));
  }
}

function showView() {
  show(byId('gate'), false);
  show(byId('view'), true);
  show(byId('meta'), true);
  show(byId('forget'), true);
}

function render(report: ClusterReport) {
  for (const [id, state] of [
    ['redis-state', report.redis],
    ['postgres-state', report.postgres],
  ] as const) {
    const node = byId(id);
    node.textContent = state;
    node.dataset.state = state;
  }
  byId('served-by').textContent = `answered by ${report.servedBy} at ${new Date(report.at).toLocaleTimeString()}`;
  table.render(report);
}

function forget(why?: string) {
  adminToken.clear();
  ask(why);
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const token = input.value.trim();
  if (!token) return;
  adminToken.save(token);
  input.value = '';
  void poll(token);
});
byId('forget').addEventListener('click', () => forget());

const saved = adminToken.load();
if (saved) void poll(saved);
else ask();
