// The dashboard's page logic (web/dashboard/app.mjs) in a DOM (jsdom)
// against a real master: sign-in, each page, the role-dependent buttons and
// what they change in the catalog. Started by the end-to-end test
// DashboardEndToEnd.ThePageWorksAgainstARealMaster, which sets up the master
// and passes it in the environment:
//   SCALEOUT_MASTER         https://127.0.0.1:PORT (NODE_EXTRA_CA_CERTS trusts it)
//   SCALEOUT_ADMIN_TOKEN, SCALEOUT_READER_TOKEN (principal dash-reader)
//   SCALEOUT_TEMPORARY_TOKEN  principal dash-temporary's, which the test removes
//   SCALEOUT_WORKER_ID      a worker added but not enabled
//   SCALEOUT_PENDING_ID     an execution started that no worker can take
//   SCALEOUT_NEW_WORKER_CERT, SCALEOUT_NEW_WORKER_SHA256
//                           a worker certificate not yet trusted, and its thumbprint
// Prints one line per step and exits 0 only if every step passed.
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { JSDOM } = require('jsdom');

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`app_with_master: ${name} is not set; run it through the end-to-end test`);
    process.exit(2);
  }
  return value;
};
const master = env('SCALEOUT_MASTER');
const adminToken = env('SCALEOUT_ADMIN_TOKEN');
const readerToken = env('SCALEOUT_READER_TOKEN');
const workerId = env('SCALEOUT_WORKER_ID');
const pendingId = env('SCALEOUT_PENDING_ID');
const temporaryToken = env('SCALEOUT_TEMPORARY_TOKEN');
const newWorkerCert = env('SCALEOUT_NEW_WORKER_CERT');
const newWorkerSha256 = env('SCALEOUT_NEW_WORKER_SHA256');

const nodeFetch = globalThis.fetch;
const html = await (await nodeFetch(`${master}/`)).text();
const dom = new JSDOM(html, { url: `${master}/` });
const { window } = dom;
const { document } = window;
// What the page's scripts use from a browser; fetch goes to the master with
// the page's relative URLs resolved as a browser would.
Object.assign(globalThis, {
  window, document, location: window.location, sessionStorage: window.sessionStorage,
  FormData: window.FormData, FileReader: window.FileReader,
  fetch: (url, init) => nodeFetch(new URL(url, window.location.href), init),
});
// WebCrypto, which browsers have on https pages (older node has it only here).
if (!globalThis.crypto?.subtle) Object.defineProperty(globalThis, 'crypto', { value: webcrypto });
let confirmations = 0;
window.confirm = () => { confirmations += 1; return true; };

const $ = (selector) => document.querySelector(selector);
const text = (selector) => $(selector)?.textContent ?? '';

async function until(condition, what, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let ok = false;
    try { ok = condition(); } catch { ok = false; }
    if (ok) return;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}; the page shows:\n${text('#banner')}\n${text('#view')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function step(name, body) {
  await body();
  console.log(`ok - ${name}`);
}

async function signIn(token) {
  await until(() => $('#login'), 'the sign-in form');
  $('#login input[name=token]').value = token;
  $('#login').dispatchEvent(new window.Event('submit', { cancelable: true, bubbles: true }));
}

async function go(hash, heading) {
  window.location.hash = hash;
  await until(() => text('#view h1').startsWith(heading), `the page "${heading}" at ${hash}`);
}

async function api(operation, token) {
  const response = await nodeFetch(`${master}/api/v1/${operation}`,
    { headers: { Authorization: `Bearer ${token}` } });
  return (await response.json()).result;
}

try {
  await import(new URL('../../web/dashboard/app.mjs', import.meta.url));

  await step('without a token the page asks for one, and a wrong one is refused', async () => {
    assert.ok($('#login'), 'no sign-in form');
    assert.equal($('#nav').hidden, true);
    await signIn('sot_not_a_token');
    await until(() => /token/i.test(text('#login .status-failed')), 'the refusal');
  });

  await step('a reader signs in and sees the dashboard with the catalog\'s figures', async () => {
    await signIn(readerToken);
    await until(() => text('#view h1') === 'Dashboard', 'the dashboard');
    assert.equal($('#nav').hidden, false);
    assert.match(text('#who'), /dash-reader \(ssis_reader\)/);
    assert.equal(sessionStorage.getItem('scaleout.token'), readerToken);
    const status = await api('status', readerToken);
    const pendingCard = [...document.querySelectorAll('.card')]
      .find((card) => card.querySelector('.label')?.textContent === 'pending');
    assert.equal(pendingCard.querySelector('.figure').textContent,
      String(status.executions_by_status.pending));
    assert.match(text('#view'), new RegExp(`0 / ${status.workers.total}`));
  });

  await step('the worker manager lists the worker, without buttons for a reader', async () => {
    await go('#/workers', 'Worker Manager');
    assert.match(text('#view table'), new RegExp(workerId));
    assert.equal(document.querySelectorAll('button[data-action]').length, 0);
  });

  await step('all executions filters by status through the form', async () => {
    await go('#/executions', 'All Executions');
    const form = $('#execution-filters');
    form.querySelector('select[name=status]').value = 'pending';
    form.dispatchEvent(new window.Event('submit', { cancelable: true, bubbles: true }));
    await until(() => window.location.hash === '#/executions?status=pending', 'the filtered route');
    await until(() => document.querySelectorAll('#view tbody tr').length === 1, 'one pending row');
    assert.match(text('#view tbody'), new RegExp(`^\\s*${pendingId}\\b`));
  });

  await step('an execution shows its facts, and no Stop for a reader', async () => {
    await go(`#/executions/${pendingId}`, `Execution ${pendingId}`);
    assert.match(text('#view h1'), /pending/);
    assert.equal($('button[data-action=stop-execution]'), null);
  });

  await step('sign out forgets the token', async () => {
    [...document.querySelectorAll('#who button')].find((b) => b.textContent === 'Sign out').click();
    await until(() => $('#login'), 'the sign-in form');
    assert.equal(sessionStorage.getItem('scaleout.token'), null);
    assert.equal($('#nav').hidden, true);
  });

  await step('an admin enables the worker from the worker manager', async () => {
    await signIn(adminToken);
    await until(() => $('#nav').hidden === false, 'the signed-in page');
    await go('#/workers', 'Worker Manager');
    const enable = $(`button[data-action=enable-worker][data-id="${workerId}"]`);
    assert.ok(enable, 'no Enable button for an admin');
    enable.click();
    await until(() => $(`button[data-action=disable-worker][data-id="${workerId}"]`), 'Disable');
    assert.match(text('#banner'), /enable_worker_agent: done/);
    const workers = await api('list_worker_agents', adminToken);
    assert.equal(workers.find((w) => w.worker_agent_id === workerId).is_enabled, true);
  });

  await step('an admin disables it again, after confirming', async () => {
    const before = confirmations;
    $(`button[data-action=disable-worker][data-id="${workerId}"]`).click();
    await until(() => $(`button[data-action=enable-worker][data-id="${workerId}"]`), 'Enable');
    assert.equal(confirmations, before + 1);
    const workers = await api('list_worker_agents', adminToken);
    assert.equal(workers.find((w) => w.worker_agent_id === workerId).is_enabled, false);
  });

  await step("an admin adds a worker from its certificate file", async () => {
    $('button[data-action=add-worker-form]').click();
    await until(() => $('#worker-add'), 'the Add form');
    const form = $('#worker-add');
    Object.defineProperty(form.querySelector('input[name=cert_file]'), 'files', {
      value: [new window.File([readFileSync(newWorkerCert, 'utf8')], 'worker.crt')],
    });
    form.querySelector('input[name=display_name]').value = 'added-by-page';
    form.dispatchEvent(new window.Event('submit', { cancelable: true, bubbles: true }));
    await until(() => /added \(disabled\)/.test(text('#banner')), 'the confirmation');
    await until(() => !$('#worker-add') && /added-by-page/.test(text('#view table')), 'the new row');
    const added = (await api('list_worker_agents', adminToken))
      .find((w) => w.display_name === 'added-by-page');
    assert.ok(added, 'the worker is not in the catalog');
    assert.equal(added.cert_sha256, newWorkerSha256);
    assert.equal(added.is_enabled, false);
  });

  await step('an admin edits its display name and tags; a wrong thumbprint is refused', async () => {
    const added = (await api('list_worker_agents', adminToken))
      .find((w) => w.display_name === 'added-by-page');
    $(`button[data-action=edit-worker-form][data-id="${added.worker_agent_id}"]`).click();
    await until(() => $('#worker-edit'), 'the Edit form');
    $('#worker-edit input[name=DisplayName]').value = 'renamed';
    $('#worker-edit input[name=Tags]').value = 'etl,night';
    $('#worker-edit').dispatchEvent(new window.Event('submit', { cancelable: true, bubbles: true }));
    await until(() => /saved/.test(text('#banner')) && !$('#worker-edit'), 'the saved worker');
    const edited = (await api('list_worker_agents', adminToken))
      .find((w) => w.worker_agent_id === added.worker_agent_id);
    assert.equal(edited.display_name, 'renamed');
    assert.equal(edited.tags, 'etl,night');
    assert.equal(edited.description, '');

    $('button[data-action=add-worker-form]').click();
    await until(() => $('#worker-add'), 'the Add form');
    $('#worker-add input[name=cert_sha256]').value = 'not-a-thumbprint';
    $('#worker-add').dispatchEvent(new window.Event('submit', { cancelable: true, bubbles: true }));
    await until(() => /thumbprint/i.test(text('#banner')) && !$('#banner').className.includes('info'),
      'the refusal');
    assert.ok($('#worker-add'), 'the form closed on a refusal');
    assert.equal($('#worker-add button[type=submit]').disabled, false);
    $('button[data-action=close-form]').click();
    await until(() => !$('#worker-add'), 'the form closed');
  });

  await step('an admin removes it, after confirming', async () => {
    const before = confirmations;
    const worker = (await api('list_worker_agents', adminToken))
      .find((w) => w.display_name === 'renamed');
    $(`button[data-action=remove-worker][data-id="${worker.worker_agent_id}"]`).click();
    await until(() => !/renamed/.test(text('#view table')), 'the row gone');
    assert.equal(confirmations, before + 1);
    const workers = await api('list_worker_agents', adminToken);
    assert.equal(workers.some((w) => w.worker_agent_id === worker.worker_agent_id), false);
  });

  await step('an admin runs a package with a parameter, retries and one worker allowed', async () => {
    await go('#/executions', 'All Executions');
    $('button[data-action=run-form]').click();
    await until(() => $('#execution-run'), 'the Run form');
    const form = $('#execution-run');
    assert.match(form.querySelector('select[name=package]').textContent, /F \/ P \/ job\.sh/);
    form.querySelector('textarea[name=parameters]').value = 'NoSuchParameter=1';
    form.dispatchEvent(new window.Event('submit', { cancelable: true, bubbles: true }));
    await until(() => /NoSuchParameter/.test(text('#banner')), 'the refusal of an unknown parameter');
    assert.ok($('#execution-run'), 'the form closed on a refusal');
    form.querySelector('textarea[name=parameters]').value = 'Rows=7';
    form.querySelector('input[name=retry_count]').value = '2';
    form.querySelector(`input[name=workers][value="${workerId}"]`).checked = true;
    form.dispatchEvent(new window.Event('submit', { cancelable: true, bubbles: true }));
    await until(() => /^#\/executions\/\d+$/.test(window.location.hash), "the new execution's page");
    const id = Number(window.location.hash.split('/').pop());
    await until(() => text('#view h1').startsWith(`Execution ${id}`), 'its heading');
    const execution = await api(`get_execution?execution_id=${id}`, adminToken);
    assert.equal(execution.retry_count, 2);
    assert.equal(execution.useanyworker, false);
    assert.equal(execution.package_name, 'job.sh');
    const rows = execution.parameters.find((p) => p.parameter_name === 'Rows');
    assert.equal(String(rows.value), '7');
    assert.equal(rows.value_set, true);
    assert.match(text('#view'), /Rows\s*project\s*7/);
  });

  await step('an admin runs a package with an environment', async () => {
    const post = async (operation, args) => {
      const response = await nodeFetch(`${master}/api/v1/${operation}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(args),
      });
      assert.equal(response.status, 200, `${operation}: ${await response.clone().text()}`);
      return (await response.json()).result;
    };
    await post('create_environment', { folder_name: 'F', environment_name: 'Prod' });
    await post('create_environment_variable', { folder_name: 'F', environment_name: 'Prod',
      variable_name: 'BatchRows', data_type: 'Int32', value: '1000' });
    const { reference_id: referenceId } = await post('create_environment_reference',
      { folder_name: 'F', project_name: 'P', environment_name: 'Prod' });
    await post('set_object_parameter_value', { object_type: 20, folder_name: 'F', project_name: 'P',
      parameter_name: 'Rows', parameter_value: 'BatchRows', value_type: 'R' });
    await go('#/executions', 'All Executions');
    $('button[data-action=run-form]').click();
    await until(() => $('#execution-run select[name=reference]'), 'the environment select');
    const form = $('#execution-run');
    assert.match(form.querySelector('select[name=reference]').textContent, /F \/ P: F \/ Prod/);
    form.querySelector('select[name=reference]').value = String(referenceId);
    form.dispatchEvent(new window.Event('submit', { cancelable: true, bubbles: true }));
    await until(() => /^#\/executions\/\d+$/.test(window.location.hash), "the new execution's page");
    const id = Number(window.location.hash.split('/').pop());
    await until(() => /reference/.test(text('#view dl')), 'its environment');
    const execution = await api(`get_execution?execution_id=${id}`, adminToken);
    assert.equal(execution.reference_id, referenceId);
    assert.equal(String(execution.parameters.find((p) => p.parameter_name === 'Rows').value), '1000');
  });

  await step('an admin keeps environments on their page', async () => {
    await go('#/environments', 'Environments');
    assert.match(text('#view'), /F \/ Prod/);
    assert.match(text('#view'), /BatchRows\s*Int32\s*1000/);
    assert.match(text('#view'), /F \/ P\s*F \/ Prod\s*relative/);
    $('button[data-action=environment-form]').click();
    await until(() => $('#environment-create'), 'the New environment form');
    let form = $('#environment-create');
    form.querySelector('input[name=folder_name]').value = 'F';
    form.querySelector('input[name=environment_name]').value = 'Prod';
    form.dispatchEvent(new window.Event('submit', { cancelable: true, bubbles: true }));
    await until(() => /already exists/.test(text('#banner')), 'the refusal of a second Prod');
    form.querySelector('input[name=environment_name]').value = 'Staging';
    form.dispatchEvent(new window.Event('submit', { cancelable: true, bubbles: true }));
    await until(() => /F \/ Staging/.test(text('#view')), 'the new environment');
    const staging = (await api('list_environments', adminToken))
      .find((e) => e.environment_name === 'Staging');
    $(`button[data-action=variable-form][data-id="${staging.environment_id}"]`).click();
    await until(() => $('#variable-add'), 'the Add variable form');
    form = $('#variable-add');
    form.querySelector('input[name=variable_name]').value = 'Token';
    form.querySelector('input[name=value]').value = 's3cret';
    form.querySelector('input[name=sensitive]').checked = true;
    form.dispatchEvent(new window.Event('submit', { cancelable: true, bubbles: true }));
    await until(() => /Token\s*String\s*\(sensitive\)/.test(text('#view')), 'the sensitive variable');
    assert.ok(!text('#view').includes('s3cret'), 'a sensitive value was shown');
    const listed = (await api('list_environments?folder_name=F', adminToken))
      .find((e) => e.environment_name === 'Staging');
    assert.deepEqual(listed.variables.map((v) => [v.name, v.sensitive, v.value]), [['Token', true, null]]);
    const before = confirmations;
    $('button[data-action=delete-variable]:not([data-id*=BatchRows])').click();
    await until(() => !/Token/.test(text('#view')), 'the variable gone');
    $('button[data-action=delete-environment][data-id*=Staging]').click();
    await until(() => !/Staging/.test(text('#view')), 'the environment gone');
    assert.equal(confirmations, before + 2);
    // Prod is referenced by P: deleting it is refused, and it stays.
    $('button[data-action=delete-environment][data-id*=Prod]').click();
    await until(() => /delete its references first/.test(text('#banner')), 'the refusal');
    assert.match(text('#view'), /F \/ Prod/);
  });

  await step("an admin configures a project's parameter on its page", async () => {
    await go('#/projects', 'Projects');
    $('#view a[href="#/projects/F/P"]').click();
    await until(() => text('#view h1').startsWith('F / P'), "the project's page");
    await until(() => /→ BatchRows/.test(text('#view')), 'the binding');
    const key = JSON.stringify([20, 'P', 'Rows']);
    $(`button[data-action=parameter-form][data-id='${key}']`).click();
    await until(() => $('#parameter-set'), 'the Configure form');
    const form = $('#parameter-set');
    form.querySelector('select[name=value_type]').value = 'V';
    form.querySelector('input[name=parameter_value]').value = 'many';
    form.dispatchEvent(new window.Event('submit', { cancelable: true, bubbles: true }));
    await until(() => /Int32/.test(text('#banner')), 'the refusal of a value that is not an Int32');
    form.querySelector('input[name=parameter_value]').value = '9';
    form.dispatchEvent(new window.Event('submit', { cancelable: true, bubbles: true }));
    await until(() => /9\s*\(set here\)/.test(text('#view')), 'the value set');
    let rows = (await api('list_object_parameters?folder_name=F&project_name=P', adminToken))[0];
    assert.deepEqual([rows.value_type, rows.default_value, rows.value_set], ['V', '9', true]);
    $(`button[data-action=clear-parameter][data-id='${key}']`).click();
    await until(() => !/set here/.test(text('#view')), 'the value cleared');
    rows = (await api('list_object_parameters?folder_name=F&project_name=P', adminToken))[0];
    assert.deepEqual([rows.value_type, rows.default_value, rows.value_set], ['V', '5', false]);
    $('button[data-action=validate-project]').click();
    await until(() => /Valid: 1 package and environment combinations/.test(text('#banner')),
      'the validation');
  });

  await step('an admin restores the earlier of two versions on the same page', async () => {
    let versions = await api('list_project_versions?folder_name=F&project_name=P', adminToken);
    assert.deepEqual(versions.map((v) => v.current), [true, false]);
    const older = versions[1].object_version_lsn;
    await until(() => $(`button[data-action=restore-version][data-id='${older}']`), 'Restore');
    assert.equal(document.querySelectorAll('button[data-action=restore-version]').length, 1,
      'Restore on the current one');
    const asked = confirmations;
    $(`button[data-action=restore-version][data-id='${older}']`).click();
    await until(() => /restore_project: done/.test(text('#banner')), 'the restore');
    assert.equal(confirmations, asked + 1, 'restored without asking');
    versions = await api('list_project_versions?folder_name=F&project_name=P', adminToken);
    assert.deepEqual(versions.map((v) => v.current), [false, true]);
    assert.equal(versions[1].restored_by, 'admin');
    await until(() => /admin, \d{4}-\d{2}-\d{2}/.test(text('#view')), 'who restored it, shown');
  });

  await step('an admin stops the pending execution', async () => {
    await go(`#/executions/${pendingId}`, `Execution ${pendingId}`);
    const stop = $('button[data-action=stop-execution]');
    assert.ok(stop, 'no Stop button for an admin');
    stop.click();
    await until(() => /canceled/.test(text('#view h1')), 'the canceled execution');
    assert.equal($('button[data-action=stop-execution]'), null);
    const execution = await api(`get_execution?execution_id=${pendingId}`, adminToken);
    assert.equal(execution.status_name, 'canceled');
  });

  await step('a principal removed while signed in is sent back to sign-in', async () => {
    [...document.querySelectorAll('#who button')].find((b) => b.textContent === 'Sign out').click();
    await signIn(temporaryToken);
    await go('#/workers', 'Worker Manager');
    const removed = await nodeFetch(`${master}/api/v1/remove_principal`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'dash-temporary' }),
    });
    assert.equal(removed.status, 200);
    // The next refresh (every 5 s) meets the refusal.
    await until(() => /no longer accepts this token/.test(text('#login .status-failed')),
      'the sign-in form after the refusal', 15000);
    assert.equal(sessionStorage.getItem('scaleout.token'), null);
  });

  console.log('app_with_master: every step passed');
  process.exit(0);
} catch (error) {
  console.error(`not ok - ${error.stack ?? error}`);
  process.exit(1);
}
