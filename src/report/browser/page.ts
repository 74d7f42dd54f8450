/**
 * The HTML report's script, run in the reader's browser (built by scripts/build-html-page.mjs into
 * one inline script whose SHA-256 the page's Content-Security-Policy names). It makes the page's
 * static content interactive: the flow table (filter, sort, a virtualised body so 100,000 rows
 * scroll smoothly), matrix cells and cards that open their flows, copy buttons, the colour scheme.
 * Text from packets only ever reaches the page through textContent, never as markup.
 */
import type { PageData, Row } from './data.js';
import { COL } from './data.js';

const ROW_HEIGHT = 26;
const OVERSCAN = 12;

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`lync-port-audit page: #${id} is missing`);
  return el as T;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  cls?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

const num = new Intl.NumberFormat('en-US');

function time(data: PageData, ms: number): string {
  const d = new Date(data.t0 * 1000 + ms);
  return d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.(\d+)Z$/, '.$1Z');
}

function endpoint(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function hostFilter(host: string): string {
  return host.includes(':') ? `ipv6.addr==${host}` : `ip.addr==${host}`;
}

/** A Wireshark display filter for one flow: both endpoints and both ports, either direction. */
function displayFilter(proto: string, a: string, ap: number, b: string, bp: number): string {
  const ends = `${hostFilter(a)} && ${hostFilter(b)}`;
  return proto === 'tcp' || proto === 'udp'
    ? `${ends} && ${proto}.port==${ap} && ${proto}.port==${bp}`
    : ends;
}

/** Copies text; navigator.clipboard needs a secure context, so a file:// page falls back to a selection. */
async function copy(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = el('textarea');
    area.value = text;
    document.body.append(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}

function wireCopyButtons(root: ParentNode): void {
  root.querySelectorAll<HTMLButtonElement>('button[data-copy]').forEach((b) => {
    if (b.dataset.wired) return;
    b.dataset.wired = '1';
    b.addEventListener('click', () => {
      const source = document.getElementById(b.dataset.copy ?? '');
      const text = source?.textContent ?? '';
      void copy(text).then((ok) => {
        b.textContent = ok ? 'Copied' : 'Select and copy';
        window.setTimeout(() => (b.textContent = 'Copy'), 1500);
      });
    });
  });
}

function wireScheme(): void {
  const root = document.documentElement;
  const button = byId<HTMLButtonElement>('scheme');
  const label = (): void => {
    const dark =
      root.dataset.scheme === 'dark' ||
      (root.dataset.scheme !== 'light' && window.matchMedia('(prefers-color-scheme: dark)').matches);
    button.textContent = dark ? 'Light scheme' : 'Dark scheme';
  };
  button.addEventListener('click', () => {
    const dark = button.textContent === 'Dark scheme';
    root.dataset.scheme = dark ? 'dark' : 'light';
    label();
  });
  label();
}

interface Filters {
  text: string;
  verdict: string;
  role: string;
  port: string;
  problems: boolean;
  key: string | null;
  keyLabel: string;
}

type SortKey = 'time' | 'verdict' | 'role' | 'port' | 'frame';

function table(data: PageData): { showKey: (key: string, label: string) => void } {
  const s = data.strings;
  const rows = data.rows;
  const str = (i: number): string => (i < 0 ? '' : s[i]);
  const filters: Filters = {
    text: '',
    verdict: '',
    role: '',
    port: '',
    problems: false,
    key: null,
    keyLabel: '',
  };
  let sort: SortKey = 'time';
  let descending = false;
  let view: Row[] = rows;
  const search = new Map<Row, string>();
  const haystack = (r: Row): string => {
    let h = search.get(r);
    if (h === undefined) {
      h = [
        str(r[COL.proto]),
        endpoint(str(r[COL.origH]), r[COL.origP]),
        endpoint(str(r[COL.respH]), r[COL.respP]),
        str(r[COL.origRole]),
        str(r[COL.respRole]),
        str(r[COL.verdict]),
        str(r[COL.app]),
        str(r[COL.reason]),
        str(r[COL.cid]),
        str(r[COL.info]),
      ]
        .join(' ')
        .toLowerCase();
      search.set(r, h);
    }
    return h;
  };

  const scroller = byId<HTMLDivElement>('flow-scroll');
  const body = byId<HTMLTableSectionElement>('flow-body');
  const count = byId<HTMLElement>('flow-count');
  const chip = byId<HTMLElement>('flow-key');
  const detail = byId<HTMLElement>('flow-detail');

  const apply = (): void => {
    const text = filters.text.trim().toLowerCase();
    const port = filters.port.trim() === '' ? -1 : Number(filters.port);
    const verdict = filters.verdict === '' ? -1 : s.indexOf(filters.verdict);
    const role = filters.role === '' ? -2 : s.indexOf(filters.role);
    const key = filters.key === null ? -2 : s.indexOf(filters.key);
    view = rows.filter(
      (r) =>
        (verdict === -1 || r[COL.verdict] === verdict) &&
        (role === -2 || r[COL.origRole] === role || r[COL.respRole] === role) &&
        (port < 0 || r[COL.respP] === port || r[COL.origP] === port) &&
        (!filters.problems || r[COL.problem] === 1) &&
        (key === -2 || r[COL.keys].includes(key)) &&
        (text === '' || haystack(r).includes(text)),
    );
    const rank = (r: Row): number => data.rank[str(r[COL.verdict])] ?? 9;
    const cmp: Record<SortKey, (a: Row, b: Row) => number> = {
      time: (a, b) => a[COL.ts] - b[COL.ts],
      verdict: (a, b) => rank(a) - rank(b) || a[COL.ts] - b[COL.ts],
      role: (a, b) =>
        str(a[COL.respRole]).localeCompare(str(b[COL.respRole])) ||
        str(a[COL.origRole]).localeCompare(str(b[COL.origRole])) ||
        a[COL.ts] - b[COL.ts],
      port: (a, b) => a[COL.respP] - b[COL.respP] || a[COL.ts] - b[COL.ts],
      frame: (a, b) => a[COL.first] - b[COL.first],
    };
    const c = cmp[sort];
    view = view.sort(descending ? (a, b) => c(b, a) : c);
    count.textContent =
      view.length === rows.length
        ? `${num.format(rows.length)} flows`
        : `${num.format(view.length)} of ${num.format(rows.length)} flows match`;
    chip.hidden = filters.key === null;
    byId<HTMLElement>('flow-key-label').textContent = filters.keyLabel;
    scroller.scrollTop = 0;
    render();
  };

  const cell = (tr: HTMLTableRowElement, text: string, cls?: string): HTMLTableCellElement => {
    const td = el('td', cls, text);
    td.title = text;
    tr.append(td);
    return td;
  };

  const rowElement = (r: Row): HTMLTableRowElement => {
    const tr = el('tr', `st-${str(r[COL.status])}`);
    const v = str(r[COL.verdict]);
    cell(tr, time(data, r[COL.ts]).slice(11, 23), 'time');
    const vd = cell(tr, '', 'verdict');
    vd.append(el('span', 'icon', data.icons[str(r[COL.status])] ?? ''), document.createTextNode(` ${v}`));
    cell(tr, str(r[COL.proto]).toUpperCase());
    const role = (i: number): string => (i < 0 ? '' : ` (${str(i)})`);
    cell(tr, endpoint(str(r[COL.origH]), r[COL.origP]) + role(r[COL.origRole]));
    cell(tr, endpoint(str(r[COL.respH]), r[COL.respP]) + role(r[COL.respRole]));
    cell(tr, [str(r[COL.app]), str(r[COL.info])].filter((x) => x).join(': '));
    cell(tr, str(r[COL.reason]), 'reason');
    cell(tr, r[COL.first] === r[COL.last] ? `${r[COL.first]}` : `${r[COL.first]}-${r[COL.last]}`, 'frames');
    tr.addEventListener('click', () => showDetail(r));
    return tr;
  };

  const spacer = (height: number): HTMLTableRowElement => {
    const tr = el('tr', 'spacer');
    const td = el('td');
    td.colSpan = 8;
    tr.append(td);
    tr.style.height = `${height}px`;
    return tr;
  };

  const render = (): void => {
    const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const visible = Math.ceil(scroller.clientHeight / ROW_HEIGHT) + 2 * OVERSCAN;
    const last = Math.min(view.length, first + visible);
    const parts: HTMLTableRowElement[] = [spacer(first * ROW_HEIGHT)];
    for (let i = first; i < last; i++) parts.push(rowElement(view[i]));
    parts.push(spacer((view.length - last) * ROW_HEIGHT));
    body.replaceChildren(...parts);
  };

  const showDetail = (r: Row): void => {
    detail.hidden = false;
    const list = el('dl');
    const add = (k: string, v: string): void => {
      list.append(el('dt', undefined, k), el('dd', undefined, v));
    };
    add('Time', time(data, r[COL.ts]));
    add('Duration', `${num.format(r[COL.dur])} ms`);
    add(
      'Flow',
      `${str(r[COL.proto]).toUpperCase()} ${endpoint(str(r[COL.origH]), r[COL.origP])} → ${endpoint(str(r[COL.respH]), r[COL.respP])}`,
    );
    add('Roles', `${str(r[COL.origRole]) || 'no role'} → ${str(r[COL.respRole]) || 'no role'}`);
    add('Verdict', str(r[COL.verdict]));
    add('Reason', str(r[COL.reason]));
    add('Application', str(r[COL.app]) || 'not recognised');
    if (r[COL.info] >= 0) add('It said', str(r[COL.info]));
    add('Frames', `${r[COL.first]} to ${r[COL.last]}`);
    add('Community ID', str(r[COL.cid]));
    const filter = el(
      'code',
      undefined,
      displayFilter(str(r[COL.proto]), str(r[COL.origH]), r[COL.origP], str(r[COL.respH]), r[COL.respP]),
    );
    filter.id = 'flow-detail-filter';
    const copyButton = el('button', 'copy', 'Copy');
    copyButton.type = 'button';
    copyButton.dataset.copy = 'flow-detail-filter';
    const dd = el('dd');
    dd.append(filter, ' ', copyButton);
    list.append(el('dt', undefined, 'Wireshark filter'), dd);
    byId<HTMLElement>('flow-detail-body').replaceChildren(list);
    wireCopyButtons(detail);
  };

  scroller.addEventListener('scroll', () => window.requestAnimationFrame(render));
  const input = (id: string, set: (v: string, e: HTMLInputElement) => void): void => {
    const e = byId<HTMLInputElement>(id);
    e.addEventListener('input', () => {
      set(e.value, e);
      apply();
    });
  };
  input('f-text', (v) => (filters.text = v));
  input('f-verdict', (v) => (filters.verdict = v));
  input('f-role', (v) => (filters.role = v));
  input('f-port', (v) => (filters.port = v));
  input('f-problems', (_, e) => (filters.problems = e.checked));
  byId<HTMLButtonElement>('flow-key-clear').addEventListener('click', () => {
    filters.key = null;
    apply();
  });
  document.querySelectorAll<HTMLTableCellElement>('th[data-sort]').forEach((th) =>
    th.addEventListener('click', () => {
      const k = th.dataset.sort as SortKey;
      descending = sort === k ? !descending : false;
      sort = k;
      document
        .querySelectorAll<HTMLTableCellElement>('th[data-sort]')
        .forEach((h) =>
          h.setAttribute('aria-sort', h === th ? (descending ? 'descending' : 'ascending') : 'none'),
        );
      apply();
    }),
  );
  apply();
  return {
    showKey: (key: string, label: string) => {
      filters.key = key;
      filters.keyLabel = label;
      apply();
      byId<HTMLElement>('flows').scrollIntoView({ block: 'start' });
    },
  };
}

function main(): void {
  const source = document.getElementById('lpa-data');
  wireScheme();
  wireCopyButtons(document);
  if (!source) return;
  const data = JSON.parse(source.textContent ?? '{}') as PageData;
  const t = table(data);
  document
    .querySelectorAll<HTMLElement>('[data-key]')
    .forEach((b) => b.addEventListener('click', () => t.showKey(b.dataset.key ?? '', b.dataset.label ?? '')));
  document.documentElement.dataset.ready = '1';
}

main();
