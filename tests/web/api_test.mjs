// The dashboard's API client (web/dashboard/api.mjs) against a recording
// fetch that answers as the master does (docs/api.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ApiError, createApi } from '../../web/dashboard/api.mjs';

function recordingFetch(status, body) {
  const calls = [];
  const fetchImpl = async (url, init) => {
    calls.push({ url, init });
    return {
      ok: status >= 200 && status < 300,
      status,
      json: async () => {
        if (typeof body === 'string') throw new SyntaxError('not JSON');
        return body;
      },
    };
  };
  return { calls, fetchImpl };
}

test('a read is a GET with the arguments in the query and the token in the header', async () => {
  const { calls, fetchImpl } = recordingFetch(200, { result: [{ execution_id: 1 }] });
  const api = createApi('sot_secret', { fetchImpl });
  const rows = await api.call('list_executions', { status: 'ended unexpectedly', limit: 200, folder_name: '' });
  assert.deepEqual(rows, [{ execution_id: 1 }]);
  assert.equal(calls.length, 1);
  assert.equal(calls[0].url, '/api/v1/list_executions?status=ended+unexpectedly&limit=200');
  assert.equal(calls[0].init.method, 'GET');
  assert.equal(calls[0].init.headers.Authorization, 'Bearer sot_secret');
  assert.equal(calls[0].init.body, undefined);
});

test('a write is a POST with a JSON body', async () => {
  const { calls, fetchImpl } = recordingFetch(200, { result: {} });
  const api = createApi('t', { fetchImpl });
  await api.call('stop_operation', { operation_id: 9 }, { write: true });
  assert.equal(calls[0].url, '/api/v1/stop_operation');
  assert.equal(calls[0].init.method, 'POST');
  assert.equal(calls[0].init.headers['Content-Type'], 'application/json');
  assert.deepEqual(JSON.parse(calls[0].init.body), { operation_id: 9 });
});

test("the master's error comes back with its HTTP status, code and message", async () => {
  const { fetchImpl } = recordingFetch(403, {
    error: { code: 'permission_denied', message: 'enable_worker_agent needs the role ssis_admin' },
  });
  const api = createApi('t', { fetchImpl });
  await assert.rejects(api.call('enable_worker_agent', { worker_agent_id: 'x' }, { write: true }),
    (error) => error instanceof ApiError && error.httpStatus === 403
      && error.code === 'permission_denied' && /ssis_admin/.test(error.message));
});

test('an answer that is not the API\'s JSON, or no answer, is a clear error', async () => {
  const { fetchImpl } = recordingFetch(502, '<html>bad gateway</html>');
  await assert.rejects(createApi('t', { fetchImpl }).call('status'),
    (error) => error instanceof ApiError && error.httpStatus === 502 && /HTTP 502/.test(error.message));
  const refused = async () => { throw new TypeError('Failed to fetch'); };
  await assert.rejects(createApi('t', { fetchImpl: refused }).call('status'),
    (error) => error instanceof ApiError && error.code === 'unavailable' && /is it running/.test(error.message));
  const { fetchImpl: noResult } = recordingFetch(200, { something: 1 });
  await assert.rejects(createApi('t', { fetchImpl: noResult }).call('status'), ApiError);
});

test('the operation name is escaped into the path', async () => {
  const { calls, fetchImpl } = recordingFetch(200, { result: null });
  await createApi('t', { fetchImpl }).call('../health');
  assert.equal(calls[0].url, '/api/v1/..%2Fhealth');
});
