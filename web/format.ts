import type { Json } from '../client/index.js';

/** The page sends `{text}`; anything else another client stored is shown as its JSON. */
export function bodyText(body: Json): string {
  if (body && typeof body === 'object' && !Array.isArray(body) && typeof body.text === 'string') return body.text;
  return JSON.stringify(body);
}

/** Authors the page has not met (not online, not typing) are shown by the start of their id. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** Today: the time; earlier: the date too. The full timestamp goes in the title. */
export function timeLabel(iso: string, now = new Date()): string {
  const at = new Date(iso);
  const time = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return at.toDateString() === now.toDateString() ? time : `${at.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
