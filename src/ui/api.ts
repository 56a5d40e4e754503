// The page's client of seamark's HTTP API: JSON requests with the bearer
// token when one is held (session storage: no cookies, so nothing a forged
// request could ride on), and the token dialog when the API answers 401.

/** An instance as /v1/events sends it. */
export interface Instance {
  owner: string;
  source: string;
  names: string[];
  addresses: string[];
  ttl?: number;
  srv: { service: string; protocol: string; port: number; priority: number; weight: number }[];
  healthy: boolean;
  origin?: { container?: string; networks?: string[]; node?: string };
  /** Hand-made records: the record id. */
  record?: string;
  cname?: string;
  txt?: string[];
}

/** A hand-made record as /v1/records answers it. */
export interface RecordView {
  id: string;
  names: string[];
  addresses: string[];
  ttl?: number;
  lease?: number;
  expiresAt?: string;
  /** An alias: the name the record's names stand for (it then has no addresses). */
  cname?: string;
  txt?: string[];
  healthy: boolean;
}

export interface ApiError {
  statusCode: number;
  message: string;
  field?: string;
}

export interface ApiResult<T> {
  ok: boolean;
  status: number;
  body: T | undefined;
  error: ApiError | undefined;
}

const TOKEN_KEY = 'seamark.token';

export function currentToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function authHeaders(): Record<string, string> {
  const token = currentToken();
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

/** Asks the operator for the token; resolves with it, or undefined when they cancel. Set by the page. */
let askToken: (reason: string) => Promise<string | undefined> = async () => undefined;
const tokenListeners: (() => void)[] = [];

export function setTokenPrompt(prompt: (reason: string) => Promise<string | undefined>): void {
  askToken = prompt;
}

/** Called whenever the token changes (the event stream reopens with it). */
export function onTokenChange(listener: () => void): void {
  tokenListeners.push(listener);
}

export function storeToken(token: string | undefined): void {
  if (token === undefined || token === '') sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
  for (const listener of tokenListeners) listener();
}

/** One API call; on 401 the operator is asked for the token and the call is made again with it. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
  for (;;) {
    const headers: Record<string, string> = authHeaders();
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      return { ok: false, status: 0, body: undefined, error: { statusCode: 0, message: `seamark cannot be reached: ${(error as Error).message}` } };
    }
    const text = await response.text();
    const parsed: unknown = text === '' ? undefined : safeJson(text);
    if (response.status === 401) {
      const token = await askToken((parsed as ApiError | undefined)?.message ?? 'seamark needs the API token for this.');
      if (token !== undefined) {
        storeToken(token);
        continue;
      }
    }
    if (response.ok) return { ok: true, status: response.status, body: parsed as T, error: undefined };
    const error = (parsed as ApiError | undefined) ?? { statusCode: response.status, message: `${response.status} ${response.statusText}` };
    return { ok: false, status: response.status, body: undefined, error };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

/** The element with this id; the page's markup is fixed, so a missing one is a bug worth failing on. */
export function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no #${id}`);
  return element as T;
}
