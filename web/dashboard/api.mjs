// The JSON API client of the dashboard (docs/api.md): reads with GET and a
// query string, writes with POST and a JSON body, the principal's token in
// the Authorization header. `fetchImpl` is injectable so tests run without
// a browser.

export class ApiError extends Error {
  constructor(httpStatus, code, message) {
    super(message);
    this.name = 'ApiError';
    this.httpStatus = httpStatus;
    this.code = code;
  }
}

export function createApi(token, { fetchImpl = globalThis.fetch, base = '/api/v1/' } = {}) {
  async function call(operation, args = {}, { write = false } = {}) {
    const headers = { Authorization: `Bearer ${token}` };
    let url = base + encodeURIComponent(operation);
    const init = { method: write ? 'POST' : 'GET', headers, cache: 'no-store' };
    if (write) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(args);
    } else {
      const query = new URLSearchParams();
      for (const [key, value] of Object.entries(args)) {
        if (value !== undefined && value !== null && value !== '') query.set(key, String(value));
      }
      if ([...query.keys()].length) url += `?${query}`;
    }
    let response;
    try {
      response = await fetchImpl(url, init);
    } catch (error) {
      throw new ApiError(0, 'unavailable', `the master did not answer (${error.message}); is it running?`);
    }
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (!response.ok || body === null || !('result' in body)) {
      const error = body?.error ?? {};
      throw new ApiError(response.status, error.code ?? 'unknown',
        error.message ?? `the master answered HTTP ${response.status} without a result`);
    }
    return body.result;
  }
  return { call };
}
