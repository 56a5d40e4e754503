// A small JSON client for the tests: real HTTP to a running seamark.

export interface ApiResponse {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

export async function api(port: number, method: string, path: string, body?: unknown, token?: string): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** Polls `check` until it returns true, for at most `timeoutMs` (generous: this is not a timing assertion). */
export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs = 15000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Addresses dig answers for a name (A or AAAA). */
export async function digAddresses(dnsPort: number, name: string, type = 'A'): Promise<string[]> {
  const { dig } = await import('../helpers/dig.js');
  const result = await dig(dnsPort, name, type);
  return result.answer.filter((record) => record.type === type).map((record) => record.data).sort();
}
