// The management API, as the portal calls it: the session cookie (sent by
// the browser, never readable here) plus the portal's header.

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `the API answered ${status}`);
    this.status = status;
    this.pointer = problem?.pointer;
  }
}

/** Calls the API; the parsed body, or an ApiError naming the problem. */
export async function call(method, path, body) {
  const headers = {'x-hubhooks-portal': '1', accept: 'application/json'};
  const init = {method, headers, credentials: 'same-origin', cache: 'no-store'};
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, {detail: 'the portal could not reach the API; check your connection and try again'});
  }
  const text = await res.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
  if (!res.ok) {
    const error = new ApiError(res.status, parsed);
    if (res.status === 401 && !path.startsWith('/portal/session')) {
      window.dispatchEvent(new CustomEvent('session-ended'));
    }
    throw error;
  }
  return parsed;
}

export const get = (path) => call('GET', path);
export const post = (path, body = {}) => call('POST', path, body);

/** Every page of a list. */
export async function all(path) {
  const out = [];
  let next = path;
  while (next) {
    const page = await get(next);
    out.push(...page.data);
    next = page.nextCursor
      ? `${path}${path.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(page.nextCursor)}`
      : null;
  }
  return out;
}
