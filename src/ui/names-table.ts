// The table of every name: one row per name, type and instance, sorted by
// name, filtered by a search box. Only the rows in view exist in the DOM (a
// fixed row height and two spacer rows stand in for the others), and they
// are a fixed pool of <tr> whose cells are rewritten only when their text
// changes — so 10,000 names cost what 40 do, and a burst of events is one
// re-render per animation frame.
import { byId, type Instance, type RecordView } from './api.js';

export interface NameRow {
  key: string;
  name: string;
  type: 'A' | 'AAAA' | 'SRV' | 'CNAME' | 'TXT';
  addresses: string;
  source: string;
  health: 'healthy' | 'unhealthy';
  ttl: string;
  owner: string;
  /** Rows of a hand-made record carry its id, for the actions. */
  recordId: string | undefined;
  /** Lower-case text the filter searches. */
  haystack: string;
}

const COLUMNS = 8;
const OVERSCAN = 10;

export class NamesTable {
  private readonly rowsByOwner = new Map<string, NameRow[]>();
  private sorted: NameRow[] = [];
  private shown: NameRow[] = [];
  private sortNeeded = false;
  private filterNeeded = false;
  private filter = '';
  private frameRequested = false;
  private readonly pool: HTMLTableRowElement[] = [];
  private readonly topSpacer: HTMLTableRowElement;
  private readonly bottomSpacer: HTMLTableRowElement;
  private readonly rowHeight: number;
  /** Called after a render that applied changes (for the performance marks). */
  onRendered: (() => void) | undefined;

  constructor(
    private readonly scroller: HTMLElement,
    private readonly body: HTMLTableSectionElement,
    private readonly count: HTMLElement,
    private readonly records: Map<string, RecordView>,
  ) {
    this.rowHeight = parseFloat(getComputedStyle(document.documentElement).getPropertyValue('--row')) || 28;
    this.topSpacer = spacerRow();
    this.bottomSpacer = spacerRow();
    body.append(this.topSpacer, this.bottomSpacer);
    scroller.addEventListener('scroll', () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(scroller);
  }

  /** Replaces everything (a snapshot). */
  reset(instances: Instance[]): void {
    this.rowsByOwner.clear();
    for (const instance of instances) this.rowsByOwner.set(instance.owner, this.rowsOf(instance));
    this.sortNeeded = true;
    this.schedule();
  }

  upsert(instance: Instance): void {
    this.rowsByOwner.set(instance.owner, this.rowsOf(instance));
    this.sortNeeded = true;
    this.schedule();
  }

  remove(owner: string): void {
    if (this.rowsByOwner.delete(owner)) {
      this.sortNeeded = true;
      this.schedule();
    }
  }

  setFilter(text: string): void {
    this.filter = text.trim().toLowerCase();
    this.filterNeeded = true;
    this.scroller.scrollTop = 0;
    this.schedule();
  }

  /** Lease columns come from /v1/records: redraw the rows of hand-made records when those change. */
  recordsChanged(): void {
    this.schedule();
  }

  private schedule(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      this.render();
    });
  }

  private render(): void {
    const changed = this.sortNeeded || this.filterNeeded;
    if (this.sortNeeded) {
      const all: NameRow[] = [];
      for (const rows of this.rowsByOwner.values()) for (const row of rows) all.push(row);
      all.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      this.sorted = all;
      this.sortNeeded = false;
      this.filterNeeded = true;
    }
    if (this.filterNeeded) {
      const words = this.filter.split(/\s+/).filter((word) => word !== '');
      this.shown = words.length === 0 ? this.sorted : this.sorted.filter((row) => words.every((word) => row.haystack.includes(word)));
      this.filterNeeded = false;
      const total = this.sorted.length;
      this.count.textContent = this.shown.length === total ? `(${total})` : `(${this.shown.length} of ${total})`;
    }

    const viewport = this.scroller.clientHeight;
    const first = Math.max(0, Math.floor(this.scroller.scrollTop / this.rowHeight) - OVERSCAN);
    const last = Math.min(this.shown.length, Math.ceil((this.scroller.scrollTop + viewport) / this.rowHeight) + OVERSCAN);
    const visible = Math.max(0, last - first);
    while (this.pool.length < visible) {
      const row = document.createElement('tr');
      for (let i = 0; i < COLUMNS; i++) row.append(document.createElement('td'));
      this.pool.push(row);
    }
    // Rows beyond what is needed leave the table; the rest stay in place and only their text changes.
    for (let i = visible; i < this.pool.length; i++) this.pool[i]?.remove();
    for (let i = 0; i < visible; i++) {
      const row = this.pool[i] as HTMLTableRowElement;
      if (row.parentNode !== this.body) this.body.insertBefore(row, this.bottomSpacer);
      this.fill(row, this.shown[first + i] as NameRow);
    }
    setSpacer(this.topSpacer, first * this.rowHeight);
    setSpacer(this.bottomSpacer, (this.shown.length - last) * this.rowHeight);
    if (changed) this.onRendered?.();
  }

  private fill(row: HTMLTableRowElement, entry: NameRow): void {
    const record = entry.recordId === undefined ? undefined : this.records.get(entry.recordId);
    const lease = record?.expiresAt === undefined ? '' : localTime(new Date(record.expiresAt));
    const cells = row.children;
    const texts = [entry.name, entry.type, entry.addresses, entry.source, entry.health, entry.ttl, lease];
    for (let i = 0; i < texts.length; i++) {
      const cell = cells[i] as HTMLElement;
      if (cell.textContent !== texts[i]) {
        cell.textContent = texts[i] as string;
        cell.title = texts[i] as string;
      }
    }
    const healthCell = cells[4] as HTMLElement;
    healthCell.className = `health-${entry.health}`;
    row.dataset.owner = entry.owner;
    row.dataset.name = entry.name;
    const actions = cells[7] as HTMLElement;
    const actionsKey = entry.recordId === undefined ? '' : `${entry.recordId}|${record?.lease !== undefined}`;
    if (actions.dataset.key !== actionsKey) {
      actions.dataset.key = actionsKey;
      actions.replaceChildren(...(entry.recordId === undefined ? [] : recordButtons(entry.recordId, record?.lease !== undefined)));
    }
  }

  private rowsOf(instance: Instance): NameRow[] {
    const source = describeSource(instance);
    const health = instance.healthy ? 'healthy' : 'unhealthy';
    const ttl = instance.ttl === undefined ? 'default' : String(instance.ttl);
    const recordId = instance.record;
    const v4 = instance.addresses.filter((address) => !address.includes(':')).join(', ');
    const v6 = instance.addresses.filter((address) => address.includes(':')).join(', ');
    const rows: NameRow[] = [];
    const add = (name: string, type: NameRow['type'], addresses: string, nth = '') => {
      // SRV rows sort under their host: web.docker A, AAAA, then _http._tcp.web.docker.
      const key = `${name.replace(/^_[^.]*\._[^.]*\./, '')}\u0000${type === 'SRV' ? `~${name}` : type}${nth}\u0000${instance.owner}`;
      // A wildcard (*.app) answers every name below app that does not exist: the filter finds it by the word too.
      const wildcard = name.startsWith('*.') ? ' wildcard' : '';
      rows.push({ key, name, type, addresses, source, health, ttl, owner: instance.owner, recordId, haystack: `${name} ${type} ${addresses} ${source} ${health} ${instance.owner}${wildcard}`.toLowerCase() });
    };
    const canonical = instance.names.find((name) => !name.startsWith('*.'));
    for (const name of instance.names) {
      if (instance.cname !== undefined) add(name, 'CNAME', `→ ${instance.cname}`);
      if (v4 !== '') add(name, 'A', v4);
      if (v6 !== '') add(name, 'AAAA', v6);
      (instance.txt ?? []).forEach((text, i) => add(name, 'TXT', JSON.stringify(text), String(i)));
      if (canonical !== undefined && !name.startsWith('*.')) for (const srv of instance.srv) add(`_${srv.service}._${srv.protocol}.${name}`, 'SRV', `${canonical}:${srv.port}`);
    }
    return rows;
  }
}

/** Where an instance comes from, in words: container and networks, hand-made record, configuration; and the node. */
export function describeSource(instance: Instance): string {
  const origin = instance.origin;
  let text: string;
  if (instance.source === 'docker') {
    const networks = origin?.networks?.length ? ` on ${origin.networks.join(', ')}` : '';
    text = `container ${origin?.container ?? instance.owner}${networks}`;
  } else if (instance.source === 'manual') {
    text = `hand-made ${instance.record ?? instance.owner}`;
  } else {
    text = 'configuration';
  }
  return origin?.node === undefined ? text : `${text} (node ${origin.node})`;
}

function recordButtons(id: string, hasLease: boolean): HTMLButtonElement[] {
  const button = (action: string, label: string) => {
    const element = document.createElement('button');
    element.type = 'button';
    element.dataset.action = action;
    element.dataset.record = id;
    element.textContent = label;
    element.setAttribute('aria-label', `${label} record ${id}`);
    return element;
  };
  return [button('edit', 'Edit'), ...(hasLease ? [button('renew', 'Renew')] : []), button('delete', 'Delete')];
}

/** `2026-11-22 19:17:05` in the browser's time zone: sortable, short, unambiguous. */
function localTime(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

/** Spacer rows stand for the rows out of view; an empty one is not displayed at all. */
function setSpacer(row: HTMLTableRowElement, height: number): void {
  row.hidden = height === 0;
  (row.firstElementChild as HTMLElement).style.height = `${height}px`;
}

function spacerRow(): HTMLTableRowElement {
  const row = document.createElement('tr');
  row.className = 'spacer';
  row.setAttribute('aria-hidden', 'true');
  const cell = document.createElement('td');
  cell.colSpan = COLUMNS;
  row.append(cell);
  return row;
}

export function namesTable(records: Map<string, RecordView>): NamesTable {
  return new NamesTable(byId('names-scroll'), byId<HTMLTableSectionElement>('names-body'), byId('names-count'), records);
}
