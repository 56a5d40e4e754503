// The operator page: the names table fed by /v1/events, the lookup box, the
// hand-made record form and the status strip. Every rule (validation, what
// DNS answers) is the API's; the page only shows what it says.
import { api, byId, currentToken, onTokenChange, setTokenPrompt, storeToken, type ApiError, type Instance, type RecordView } from './api.js';
import { namesTable } from './names-table.js';
import { startStatusStrip } from './status-strip.js';
import { openEventStream, type EventStream } from './stream.js';

interface InstanceEvent {
  generation: number;
  kind: 'added' | 'changed' | 'health' | 'removed';
  owner: string;
  source: string;
  instance?: Instance;
}

const records = new Map<string, RecordView>();
const table = namesTable(records);
let generation = -1;
let firstRender = true;

table.onRendered = () => {
  // User Timing marks: what the README's page figures are measured from (see test/ui/measure.ts).
  if (firstRender) {
    firstRender = false;
    performance.mark('seamark:first-render', { detail: { generation } });
  }
  performance.mark('seamark:rendered', { detail: { generation } });
};

// ---- live names ----
const live = byId('status-live');
let stream: EventStream | undefined;
function connect(): void {
  stream?.close();
  stream = openEventStream('/v1/events', {
    onEvent(name, data) {
      if (name === 'snapshot') {
        const snapshot = data as { generation: number; instances: Instance[] };
        generation = snapshot.generation;
        table.reset(snapshot.instances);
        void loadRecords();
      } else if (name === 'instance') {
        const event = data as InstanceEvent;
        generation = event.generation;
        if (event.instance === undefined) table.remove(event.owner);
        else table.upsert(event.instance);
        if (event.source === 'manual') scheduleRecordsReload();
      } else if (name === 'generation') {
        generation = (data as { generation: number }).generation;
      }
      live.textContent = `live, generation ${generation}`;
    },
    onState(state) {
      live.textContent = state === 'live' ? `live, generation ${generation}` : 'reconnecting…';
    },
    onRefused() {
      live.textContent = 'not connected';
      // Reading from beyond loopback needs the token: asking through a plain read brings up the token dialog.
      // Either way, try again a little later (a new token reconnects at once).
      void api('GET', '/v1/records').then(() => window.setTimeout(connect, 2000));
    },
  });
}
onTokenChange(connect);

// ---- hand-made records (for the lease column and the form) ----
async function loadRecords(): Promise<void> {
  const result = await api<RecordView[]>('GET', '/v1/records');
  if (!result.ok || result.body === undefined) return;
  records.clear();
  for (const record of result.body) records.set(record.id, record);
  table.recordsChanged();
}

let recordsTimer: number | undefined;
function scheduleRecordsReload(): void {
  if (recordsTimer !== undefined) return;
  recordsTimer = window.setTimeout(() => {
    recordsTimer = undefined;
    void loadRecords();
  }, 300);
}

// ---- token dialog ----
const tokenDialog = byId<HTMLDialogElement>('token-dialog');
const tokenInput = byId<HTMLInputElement>('token-input');
let tokenAnswer: ((token: string | undefined) => void) | undefined;
function promptForToken(reason: string): Promise<string | undefined> {
  byId('token-reason').textContent = reason;
  tokenInput.value = '';
  if (!tokenDialog.open) tokenDialog.showModal();
  tokenInput.focus();
  return new Promise((resolve) => {
    tokenAnswer = resolve;
  });
}
function answerToken(token: string | undefined): void {
  tokenDialog.close();
  tokenAnswer?.(token);
  tokenAnswer = undefined;
}
setTokenPrompt(promptForToken);
byId('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  answerToken(tokenInput.value.trim() === '' ? undefined : tokenInput.value.trim());
});
byId('token-cancel').addEventListener('click', () => answerToken(undefined));
tokenDialog.addEventListener('cancel', () => answerToken(undefined));
byId('token-forget').addEventListener('click', () => {
  storeToken(undefined);
  answerToken(undefined);
});
byId('token-button').addEventListener('click', () => {
  void promptForToken(currentToken() === undefined ? 'No token is set.' : 'A token is set; enter another to replace it.').then((token) => {
    if (token !== undefined) storeToken(token);
  });
});

// ---- filter ----
const filter = byId<HTMLInputElement>('filter');
filter.addEventListener('input', () => table.setFilter(filter.value));

// ---- lookup ----
const lookupForm = byId<HTMLFormElement>('lookup-form');
const lookupName = byId<HTMLInputElement>('lookup-name');
lookupForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void lookUp(lookupName.value, byId<HTMLSelectElement>('lookup-type').value);
});
async function lookUp(name: string, type: string): Promise<void> {
  const result = await api<{ text: string }>('GET', `/v1/lookup?name=${encodeURIComponent(name)}&type=${encodeURIComponent(type)}`);
  showFieldErrors('lookup', result.error, ['name', 'type'], byId('lookup-name-error'));
  byId('lookup-output').textContent = result.body?.text ?? '';
}

// ---- hand-made record form ----
const FIELDS = ['id', 'names', 'addresses', 'cname', 'txt', 'ttl', 'lease'] as const;
const form = byId<HTMLFormElement>('record-form');
const input = (field: Exclude<(typeof FIELDS)[number], 'txt'>) => byId<HTMLInputElement>(`record-${field}`);
const txtInput = byId<HTMLTextAreaElement>('record-txt');
const aliasChoice = byId<HTMLInputElement>('record-kind-cname');
let editing: string | undefined;

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void saveRecord();
});
byId('record-new').addEventListener('click', () => editRecord(undefined));
byId('record-kind').addEventListener('change', showKind);

/** Addresses or an alias: only the chosen one's field is shown and sent (what each may hold is the API's to say). */
function showKind(): void {
  byId('record-addresses-field').hidden = aliasChoice.checked;
  byId('record-cname-field').hidden = !aliasChoice.checked;
}

async function saveRecord(): Promise<void> {
  const list = (text: string) => text.split(/[\s,]+/).filter((item) => item !== '');
  // Numbers go as numbers when they read as one; anything else goes as typed, for the API to judge.
  const number = (text: string) => (/^-?\d+$/.test(text.trim()) ? Number(text.trim()) : text.trim());
  const ttl = input('ttl').value.trim();
  const lease = input('lease').value.trim();
  // TXT strings hold spaces and commas: one string a line, sent as typed.
  const txt = txtInput.value.split('\n').filter((line) => line !== '');
  const alias = aliasChoice.checked;
  const fields: Record<string, unknown> = { names: list(input('names').value) };
  if (alias) fields.cname = input('cname').value.trim();
  else fields.addresses = list(input('addresses').value);
  let result;
  if (editing !== undefined) {
    const patch = { ...fields, ...(alias ? { addresses: [] } : { cname: null }), txt: txt.length === 0 ? null : txt, ttl: ttl === '' ? null : number(ttl), lease: lease === '' ? null : number(lease) };
    result = await api<RecordView>('PATCH', `/v1/records/${encodeURIComponent(editing)}`, patch);
  } else {
    if (txt.length > 0) fields.txt = txt;
    if (ttl !== '') fields.ttl = number(ttl);
    if (lease !== '') fields.lease = number(lease);
    const id = input('id').value.trim();
    result = id === '' ? await api<RecordView>('POST', '/v1/records', fields) : await api<RecordView>('PUT', `/v1/records/${encodeURIComponent(id)}`, fields);
  }
  showFieldErrors('record', result.error, FIELDS, byId('record-form-error'));
  if (result.ok && result.body !== undefined) {
    const record = result.body;
    records.set(record.id, record);
    table.recordsChanged();
    const answers = record.cname !== undefined ? [`alias of ${record.cname}`] : [...record.addresses, ...(record.txt ?? []).map((text) => `TXT ${JSON.stringify(text)}`)];
    byId('record-done').textContent = `Saved ${record.id}: ${record.names.join(', ')} → ${answers.join(', ')}`;
    editRecord(undefined);
  } else {
    byId('record-done').textContent = '';
  }
}

function editRecord(id: string | undefined): void {
  editing = id;
  const record = id === undefined ? undefined : records.get(id);
  input('id').value = id ?? '';
  input('id').readOnly = id !== undefined;
  input('names').value = record?.names.join(', ') ?? '';
  input('addresses').value = record?.addresses.join(', ') ?? '';
  input('cname').value = record?.cname ?? '';
  txtInput.value = record?.txt?.join('\n') ?? '';
  input('ttl').value = record?.ttl === undefined ? '' : String(record.ttl);
  input('lease').value = record?.lease === undefined ? '' : String(record.lease);
  aliasChoice.checked = record?.cname !== undefined;
  byId<HTMLInputElement>('record-kind-addresses').checked = record?.cname === undefined;
  showKind();
  byId('record-heading').textContent = id === undefined ? 'Add a hand-made record' : `Edit record ${id}`;
  byId('record-submit').textContent = id === undefined ? 'Add record' : 'Save changes';
  showFieldErrors('record', undefined, FIELDS, byId('record-form-error'));
  if (id !== undefined) input('names').focus();
}

/**
 * Puts a 400's message next to the field it names (`addresses[0]` → the addresses field) and moves the focus there;
 * a message for no field, or for one not shown, goes under the form.
 */
function showFieldErrors(prefix: string, error: ApiError | undefined, fields: readonly string[], fallback: HTMLElement): void {
  const named = error?.field?.split(/[.[]/)[0];
  let placed = false;
  for (const field of fields) {
    const message = document.getElementById(`${prefix}-${field}-error`);
    const control = document.getElementById(`${prefix}-${field}`);
    const mine = error !== undefined && field === named && control !== null && control.closest('[hidden]') === null;
    control?.setAttribute('aria-invalid', String(mine));
    if (mine) control?.focus();
    if (message === null || message === fallback) continue;
    message.textContent = mine ? error.message : '';
    placed ||= mine;
  }
  fallback.textContent = error !== undefined && !placed ? error.message : '';
}

// ---- row actions (one listener for every row: rows are recycled) ----
byId('names-body').addEventListener('click', (event) => {
  const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-action]');
  const id = button?.dataset.record;
  if (button === null || button === undefined || id === undefined) return;
  const action = button.dataset.action;
  if (action === 'edit') editRecord(id);
  else if (action === 'renew') void renew(id);
  else if (action === 'delete') void remove(button, id);
});

async function renew(id: string): Promise<void> {
  const result = await api<RecordView>('POST', `/v1/records/${encodeURIComponent(id)}/renew`);
  if (result.ok && result.body !== undefined) {
    records.set(id, result.body);
    table.recordsChanged();
  }
  byId('record-done').textContent = result.ok ? `Renewed ${id} until ${result.body?.expiresAt ?? '?'}` : (result.error?.message ?? '');
}

/** Delete asks once more on the same button, so one stray click or key press deletes nothing. */
async function remove(button: HTMLButtonElement, id: string): Promise<void> {
  if (button.dataset.confirm !== 'yes') {
    button.dataset.confirm = 'yes';
    button.textContent = 'Really delete?';
    window.setTimeout(() => {
      button.dataset.confirm = '';
      button.textContent = 'Delete';
    }, 4000);
    return;
  }
  const result = await api('DELETE', `/v1/records/${encodeURIComponent(id)}`);
  if (result.ok) {
    records.delete(id);
    if (editing === id) editRecord(undefined);
  }
  byId('record-done').textContent = result.ok ? `Deleted ${id}` : (result.error?.message ?? '');
}

connect();
startStatusStrip();
