// The dashboard's views (web/dashboard/views.mjs) on API results shaped as
// the master returns them (docs/api.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  canCall, changedProperties, DATA_TYPES, environmentKey, escapeHtml, executionsHash, formatDuration,
  formatTime, parseParameterLines, parseRoute, renderDashboard, renderEnvironments, renderExecution,
  renderExecutions, renderLogin, renderProject, renderProjects, renderRunForm, renderWorkers,
  runArguments, STATUSES, statusBadge, parameterKey, projectHash, validationSummary,
} from '../../web/dashboard/views.mjs';

const HOSTILE = '<img src=x onerror="alert(1)">&\'';

const OPERATIONS = [
  { name: 'whoami', roles: [] },
  { name: 'status', roles: ['ssis_admin', 'ssis_cluster_executor', 'ssis_reader'] },
  { name: 'enable_worker_agent', roles: ['ssis_admin'] },
  { name: 'stop_operation', roles: ['ssis_admin', 'ssis_cluster_executor'] },
];

function worker(overrides = {}) {
  return {
    worker_agent_id: '1BA45FA9-DE41-416E-B73B-39B65C943F4C', display_name: 'w1',
    is_enabled: true, is_online: true, machine_name: 'vm', running_tasks: 2, max_task_count: 4,
    cpu_percent: 11.7, free_memory_mb: 23647, last_online_time: '2026-12-07T06:28:04.270Z',
    tags: '', description: '', ...overrides,
  };
}

function execution(overrides = {}) {
  return {
    execution_id: 9, status: 7, status_name: 'succeeded', folder_name: 'demo',
    project_name: 'sample', package_name: 'hello.sh', project_lsn: 1, executed_count: 2,
    retry_count: 1, runinscaleout: true, useanyworker: true, caller_name: 'admin',
    created_time: '2026-12-07T06:28:00.678Z', start_time: '2026-12-07T06:28:00.678Z',
    end_time: '2026-12-07T06:28:02.178Z', stop_requested: false, stopped_by_name: null,
    worker_agent_id: '1BA45FA9-DE41-416E-B73B-39B65C943F4C', ...overrides,
  };
}

test('escapeHtml leaves no markup and no attribute break-out', () => {
  assert.equal(escapeHtml(HOSTILE), '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;');
  assert.equal(escapeHtml(null), '');
  assert.equal(escapeHtml(42), '42');
});

test('canCall follows the operation table: empty roles admit any principal', () => {
  assert.equal(canCall(OPERATIONS, ['ssis_reader'], 'whoami'), true);
  assert.equal(canCall(OPERATIONS, ['ssis_reader'], 'status'), true);
  assert.equal(canCall(OPERATIONS, ['ssis_reader'], 'enable_worker_agent'), false);
  assert.equal(canCall(OPERATIONS, ['ssis_admin'], 'enable_worker_agent'), true);
  assert.equal(canCall(OPERATIONS, ['ssis_cluster_executor'], 'stop_operation'), true);
  assert.equal(canCall(OPERATIONS, ['ssis_admin'], 'no_such_operation'), false);
  assert.equal(canCall(undefined, undefined, 'whoami'), false);
});

test('parseRoute and executionsHash round-trip the filters', () => {
  assert.deepEqual(parseRoute(''), { view: 'dashboard', filters: {} });
  assert.deepEqual(parseRoute('#/workers'), { view: 'workers', filters: {} });
  assert.deepEqual(parseRoute('#/environments'), { view: 'environments', filters: {} });
  assert.deepEqual(parseRoute('#/projects'), { view: 'projects', filters: {} });
  assert.deepEqual(parseRoute(projectHash('Sales & Co', 'a/b')),
    { view: 'project', folder: 'Sales & Co', project: 'a/b', filters: {} });
  assert.deepEqual(parseRoute('#/executions/42'), { view: 'execution', id: 42, filters: {} });
  assert.deepEqual(parseRoute('#/executions/4x'), { view: 'executions', filters: {} });
  assert.deepEqual(parseRoute('#/nowhere'), { view: 'dashboard', filters: {} });
  const filters = { status: 'ended unexpectedly', folder_name: 'Sales & Co', package_name: '' };
  const hash = executionsHash(filters);
  assert.equal(hash, '#/executions?status=ended+unexpectedly&folder_name=Sales+%26+Co');
  assert.deepEqual(parseRoute(hash),
    { view: 'executions', filters: { status: 'ended unexpectedly', folder_name: 'Sales & Co' } });
  assert.equal(executionsHash({}), '#/executions');
});

test('times and durations', () => {
  assert.equal(formatTime('2026-12-07T06:28:00.678Z'), '2026-12-07 06:28:00 UTC');
  assert.equal(formatTime(null), '');
  assert.equal(formatDuration('2026-12-07T06:28:00.000Z', '2026-12-07T06:28:01.500Z'), '1.50 s');
  assert.equal(formatDuration('2026-12-07T06:00:00.000Z', '2026-12-07T06:03:04.000Z'), '3 min 4 s');
  assert.equal(formatDuration('2026-12-07T06:00:00.000Z', '2026-12-07T08:05:00.000Z'), '2 h 5 min');
  assert.equal(formatDuration('2026-12-07T06:00:00.000Z', null), '');
});

test('the dashboard shows every status count with a link to its executions', () => {
  const html = renderDashboard({
    scaleout_enabled: true, default_execution_mode: 'ScaleOut',
    workers: { total: 3, online: 2, enabled: 2, online_and_enabled: 1 },
    executions_by_status: { succeeded: 7, failed: 2, 'ended unexpectedly': 1 },
    master_properties: { MASTER_ADDRESS: 'https://vm:8391', MACHINE_NAME: HOSTILE },
  });
  for (const status of STATUSES) {
    assert.ok(html.includes(`href="${escapeHtml(executionsHash({ status }))}"`), status);
  }
  assert.match(html, /<div class="figure">7<\/div><div class="label">succeeded<\/div>/);
  assert.match(html, /<div class="figure">1 \/ 3<\/div><div class="label">workers online and enabled/);
  assert.match(html, /<div class="figure">enabled<\/div><div class="label">Scale Out/);
  assert.ok(!html.includes('<img'), 'a catalog value became markup');
});

const ADMIN_CAN = {
  add_worker_agent: true, enable_worker_agent: true, disable_worker_agent: true,
  set_worker_agent_property: true, remove_worker_agent: true,
};

test('the worker manager offers each button only to a role that may', () => {
  const workers = [worker(), worker({ worker_agent_id: 'F59A4C24-5732-40F9-B884-53AA060D2BFA',
    display_name: HOSTILE, is_enabled: false, is_online: false })];
  const admin = renderWorkers(workers, { can: ADMIN_CAN });
  assert.match(admin, /data-action="disable-worker" data-id="1BA45FA9-DE41-416E-B73B-39B65C943F4C"/);
  assert.match(admin, /data-action="enable-worker" data-id="F59A4C24-5732-40F9-B884-53AA060D2BFA"/);
  assert.match(admin, /data-action="edit-worker-form" data-id="1BA45FA9/);
  assert.match(admin, /data-action="remove-worker" data-id="F59A4C24/);
  assert.match(admin, /data-action="add-worker-form"/);
  assert.match(admin, /2 \/ 4/);
  assert.match(admin, /12 %/);
  assert.ok(!admin.includes('<img'));
  for (const reader of [renderWorkers(workers, { can: {} }), renderWorkers(workers)]) {
    assert.ok(!reader.includes('data-action'), 'a reader got a button');
  }
  const onlyEnable = renderWorkers(workers, { can: { enable_worker_agent: true } });
  assert.deepEqual([...onlyEnable.matchAll(/data-action="([a-z-]+)"/g)].map((m) => m[1]), ['enable-worker']);
  assert.match(renderWorkers([]), /scaleout manage worker add/);
});

test('the worker forms: Add asks for the certificate, Edit shows each property as it was', () => {
  const workers = [worker({ description: HOSTILE, tags: 'etl,night' })];
  const adding = renderWorkers(workers, { can: ADMIN_CAN, editing: 'new' });
  assert.match(adding, /<form class="panel" id="worker-add">/);
  assert.match(adding, /type="file"/);
  assert.ok(!adding.includes('data-action="add-worker-form"'), 'Add offered while adding');
  assert.ok(!adding.includes('data-action="edit-worker-form"'), 'Edit offered while a form is open');
  const editing = renderWorkers(workers, { can: ADMIN_CAN, editing: worker().worker_agent_id });
  assert.match(editing, /<form class="panel" id="worker-edit" data-id="1BA45FA9-DE41-416E-B73B-39B65C943F4C">/);
  assert.match(editing, /name="DisplayName" value="w1" data-was="w1"/);
  assert.match(editing, /name="Tags" value="etl,night" data-was="etl,night"/);
  assert.match(editing, /name="Description" value="&lt;img src=x onerror=&quot;alert\(1\)&quot;&gt;&amp;&#39;"/);
  assert.ok(!editing.includes('<img'));
  assert.equal(renderWorkers(workers, { can: ADMIN_CAN, editing: 'gone' }).includes('worker-edit'), false);
});

test('changedProperties sends only what the form changed', () => {
  assert.deepEqual(changedProperties([
    { name: 'DisplayName', value: 'w1', was: 'w1' },
    { name: 'Description', value: 'nightly loads', was: '' },
    { name: 'Tags', value: '', was: 'etl' },
  ]), [
    { property_name: 'Description', property_value: 'nightly loads' },
    { property_name: 'Tags', property_value: '' },
  ]);
  assert.deepEqual(changedProperties([]), []);
});

test('all executions: filters kept, attempts against retries, worker by name', () => {
  const workers = new Map([[worker().worker_agent_id, worker()]]);
  const html = renderExecutions([execution(), execution({ execution_id: 10, status_name: 'failed',
    runinscaleout: false, worker_agent_id: null, package_name: HOSTILE })],
  { status: 'failed', folder_name: 'demo' }, workers, { limit: 2 });
  assert.match(html, /<option value="failed" selected>/);
  assert.match(html, /name="folder_name" value="demo"/);
  assert.match(html, /href="#\/executions\/9"/);
  assert.match(html, /status-succeeded/);
  assert.match(html, /status-failed/);
  assert.match(html, />w1</);
  assert.match(html, /\(server\)/);
  assert.match(html, /2 \/ 2/);
  assert.match(html, /1.50 s/);
  assert.match(html, /The newest 2 shown/);
  assert.ok(!html.includes('<img'));
  assert.match(renderExecutions([], {}, new Map()), /No execution matches/);
});

test('one execution: attempts, parameters, messages, and Stop only while it can stop', () => {
  const running = execution({
    status_name: 'running', end_time: null,
    attempts: [
      { attempt: 1, status_name: 'ended unexpectedly', worker_agent_id: worker().worker_agent_id,
        start_time: '2026-12-07T06:28:00.678Z', end_time: '2026-12-07T06:28:10.678Z',
        exit_code: null, result_message: 'lease expired', server_only: false },
      { attempt: 2, status_name: 'running', worker_agent_id: 'F59A4C24-5732-40F9-B884-53AA060D2BFA',
        start_time: '2026-12-07T06:28:11.000Z', end_time: null, exit_code: null,
        result_message: '', server_only: false },
    ],
    parameters: [
      { parameter_name: 'Name', object_type: 30, value: HOSTILE, value_set: true, sensitive: false },
      { parameter_name: 'Password', object_type: 20, value: 'hunter2', value_set: true, sensitive: true },
      { parameter_name: 'LOGGING_LEVEL', object_type: 50, value: '1', value_set: false, sensitive: false },
    ],
  });
  const messages = [
    { event_message_id: 1, message: 'Hello <b>', message_source: 'stdout', message_type: 70,
      message_time: '2026-12-07T06:28:01.000Z' },
    { event_message_id: 2, message: 'disk full', message_source: 'stderr', message_type: 120,
      message_time: '2026-12-07T06:28:02.000Z' },
  ];
  const workers = new Map([[worker().worker_agent_id, worker()]]);
  const html = renderExecution(running, messages, workers, { canStop: true });
  assert.match(html, /data-action="stop-execution" data-id="9"/);
  assert.match(html, /lease expired/);
  assert.match(html, /title="F59A4C24-5732-40F9-B884-53AA060D2BFA">F59A4C24</);
  assert.ok(!html.includes('hunter2'), 'a sensitive value was shown');
  assert.match(html, /\(sensitive\)/);
  assert.ok(!html.includes('LOGGING_LEVEL'), 'an unset system parameter was listed');
  assert.match(html, /Hello &lt;b&gt;/);
  assert.match(html, /<span class="e">disk full<\/span>/);
  assert.ok(!html.includes('<img'));
  assert.ok(!renderExecution(running, [], workers, { canStop: false }).includes('data-action'));
  assert.ok(!html.includes('<dt>environment'), 'an environment shown for a run without one');
  assert.match(renderExecution({ ...running, reference_id: 4 }, [], workers),
    /<dt>environment<\/dt><dd>reference 4<\/dd>/);
  assert.ok(!renderExecution(execution(), [], workers, { canStop: true }).includes('data-action'),
    'Stop offered on an execution that has ended');
  assert.ok(!renderExecution(execution({ status_name: 'created' }), [], workers, { canStop: true })
    .includes('data-action'), 'Stop offered on an execution not started');
  assert.match(renderExecution(execution({ status_name: 'pending' }), [], workers, { canStop: true }),
    /data-action="stop-execution"/);
  assert.ok(!renderExecution({ ...running, stop_requested: true }, [], workers, { canStop: true })
    .includes('data-action'), 'Stop offered twice');
  assert.match(renderExecution(execution({ attempts: [] }), [], workers), /Not started yet/);
  assert.match(renderExecution(execution(), [], workers), /06:28:02 UTC \(after 1.50 s\)/);
  assert.ok(!html.includes('<dt>ended</dt>'), 'a running execution shown as ended');
});

test('the sign-in form and its error, escaped', () => {
  const html = renderLogin(HOSTILE);
  assert.match(html, /type="password"/);
  assert.ok(!html.includes('<img'));
  assert.ok(!renderLogin().includes('status-failed'));
  assert.equal(statusBadge('ended unexpectedly'),
    '<span class="status status-ended-unexpectedly">ended unexpectedly</span>');
});

const PACKAGES = [
  { folder_name: 'demo', project_name: 'sample', package_name: 'hello.sh', entry_point: true },
  { folder_name: 'demo', project_name: 'sample', package_name: 'lib.sh', entry_point: false },
  { folder_name: 'Sales & Co', project_name: 'load', package_name: HOSTILE, entry_point: true },
];

test('the Run form offers entry points only, and the workers to allow', () => {
  const html = renderRunForm(PACKAGES, [worker(), worker({ worker_agent_id: 'F59A4C24-5732-40F9-B884-53AA060D2BFA',
    display_name: '', is_online: false })]);
  assert.match(html, /<form class="panel" id="execution-run">/);
  assert.match(html, /demo \/ sample \/ hello.sh/);
  assert.ok(!html.includes('lib.sh'), 'a package that is not an entry point was offered');
  assert.match(html, /value="\[&quot;demo&quot;,&quot;sample&quot;,&quot;hello.sh&quot;\]"/);
  assert.match(html, /Sales &amp; Co/);
  assert.ok(!html.includes('<img'));
  assert.match(html, /value="1BA45FA9-DE41-416E-B73B-39B65C943F4C">\nw1</);
  assert.match(html, /F59A4C24-5732-40F9-B884-53AA060D2BFA <span class="hint">\(not ready\)/);
  assert.match(renderRunForm([PACKAGES[1]], []), /No package to run/);
  assert.ok(!renderRunForm(PACKAGES, []).includes('<fieldset'), 'a worker list with no worker');
});

const REFERENCES = [
  { reference_id: 4, folder_name: 'demo', project_name: 'sample', reference_type: 'R',
    environment_folder_name: null, environment_name: 'Prod' },
  { reference_id: 9, folder_name: 'Sales & Co', project_name: 'load', reference_type: 'A',
    environment_folder_name: 'Shared', environment_name: '<Test>' },
];

test('the Run form offers the environment references, and none', () => {
  const html = renderRunForm(PACKAGES, [], REFERENCES);
  assert.match(html, /<select name="reference"><option value="">none<\/option>/);
  assert.match(html, /<option value="4">demo \/ sample: demo \/ Prod \(reference 4\)<\/option>/);
  assert.match(html, /Sales &amp; Co \/ load: Shared \/ &lt;Test&gt; \(reference 9\)/);
  assert.ok(!renderRunForm(PACKAGES, []).includes('name="reference"'), 'no reference, no select');
  const chosen = JSON.stringify(['demo', 'sample', 'hello.sh']);
  assert.equal(runArguments({ package: chosen, reference: '4' }, REFERENCES).reference_id, 4);
  assert.ok(!('reference_id' in runArguments({ package: chosen, reference: '' }, REFERENCES)));
  assert.throws(() => runArguments({ package: chosen, reference: '9' }, REFERENCES),
    /is for another project; choose one of demo \/ sample or none/);
});

test('the Run form becomes run_execution arguments', () => {
  const chosen = JSON.stringify(['demo', 'sample', 'hello.sh']);
  assert.deepEqual(runArguments({ package: chosen, parameters: '', retry_count: '', mode: '', workers: [] }),
    { folder_name: 'demo', project_name: 'sample', package_name: 'hello.sh', retry_count: 0 });
  assert.deepEqual(runArguments({
    package: chosen, parameters: 'Name=Ada\r\n\n Url = a=b \n', retry_count: '2', mode: 'scaleout',
    workers: ['W1'],
  }), {
    folder_name: 'demo', project_name: 'sample', package_name: 'hello.sh', retry_count: 2,
    parameters: [{ name: 'Name', value: 'Ada' }, { name: 'Url', value: ' a=b ' }],
    runinscaleout: true, workers: ['W1'],
  });
  assert.equal(runArguments({ package: chosen, mode: 'server' }).runinscaleout, false);
  assert.equal(runArguments({ package: chosen, mode: '', workers: ['W1'] }).runinscaleout, true,
    'workers without Scale Out');
  assert.throws(() => runArguments({ package: chosen, mode: 'server', workers: ['W1'] }), /Scale Out only/);
  assert.throws(() => runArguments({ package: chosen, retry_count: '-1' }), /whole number/);
  assert.throws(() => runArguments({ package: chosen, retry_count: '1.5' }), /whole number/);
  assert.throws(() => parseParameterLines('Name=Ada\njust text'), /line 2 is not NAME=VALUE: just text/);
  assert.throws(() => parseParameterLines('=value'), /line 1/);
  assert.deepEqual(parseParameterLines(''), []);
});

test('All Executions shows Run to a role that may, and the form instead when open', () => {
  const withButton = renderExecutions([], {}, new Map(), { canRun: true });
  assert.match(withButton, /data-action="run-form"/);
  assert.ok(!renderExecutions([], {}, new Map()).includes('run-form'), 'a reader got Run');
  const open = renderExecutions([execution()], {}, new Map(), { canRun: true, runForm: renderRunForm(PACKAGES, []) });
  assert.match(open, /id="execution-run"/);
  assert.ok(!open.includes('data-action="run-form"'));
});

const ENVIRONMENTS = [
  { environment_id: 3, folder_name: 'F', environment_name: 'Prod', description: 'production',
    variables: [
      { name: 'DbServer', data_type: 'String', value: 'prod-db', sensitive: false, description: '' },
      { name: 'Password', data_type: 'String', value: null, sensitive: true, description: 'the db' },
    ] },
  { environment_id: 7, folder_name: 'Sales & Co', environment_name: HOSTILE, description: '',
    variables: [] },
];

test('Environments lists each variable, hides sensitive ones and escapes names', () => {
  const html = renderEnvironments(ENVIRONMENTS, REFERENCES);
  assert.match(html, /<h2>F \/ Prod<\/h2>/);
  assert.match(html, /<td>DbServer<\/td><td>String<\/td>\n<td>prod-db<\/td>/);
  assert.match(html, /<td>Password<\/td><td>String<\/td>\n<td><span class="hint">\(sensitive\)<\/span><\/td>/);
  assert.match(html, /Sales &amp; Co \/ &lt;img/);
  assert.ok(!html.includes('<img'));
  assert.match(html, /No variable yet/);
  assert.match(html, /<td class="num">4<\/td>\n<td>demo \/ sample<\/td>\n<td>demo \/ Prod<\/td>\n<td>relative<\/td>/);
  assert.match(html, /Shared \/ &lt;Test&gt;<\/td>\n<td>absolute/);
  assert.ok(!html.includes('data-action'), 'a reader was offered a button');
  assert.match(renderEnvironments([], []), /No environment yet/);
  assert.match(renderEnvironments(ENVIRONMENTS, []), /No project refers to an environment yet/);
});

test('Environments offers its buttons and forms to a role that may', () => {
  const can = { create_environment: true, delete_environment: true,
    create_environment_variable: true, delete_environment_variable: true };
  const html = renderEnvironments(ENVIRONMENTS, [], { can });
  assert.match(html, /data-action="environment-form">New environment/);
  assert.match(html, /data-action="variable-form" data-id="3">Add variable/);
  const prodKey = escapeHtml(environmentKey('F', 'Prod'));
  assert.ok(html.includes(`data-action="delete-environment" data-id="${prodKey}"`));
  const variableKey = escapeHtml(environmentKey('F', 'Prod', 'DbServer'));
  assert.ok(html.includes(`data-action="delete-variable" data-id="${variableKey}"`));
  assert.deepEqual(JSON.parse(environmentKey('F', 'Prod', 'DbServer')), ['F', 'Prod', 'DbServer']);
  const creating = renderEnvironments(ENVIRONMENTS, [], { can, editing: 'new-environment' });
  assert.match(creating, /<form class="panel" id="environment-create">/);
  assert.ok(!creating.includes('New environment</button>'), 'the button beside its open form');
  const adding = renderEnvironments(ENVIRONMENTS, [], { can, editing: 3 });
  assert.match(adding, /<form class="panel" id="variable-add" data-folder="F" data-environment="Prod">/);
  for (const type of DATA_TYPES) assert.ok(adding.includes(`<option>${type}</option>`), type);
  assert.equal((adding.match(/id="variable-add"/g) ?? []).length, 1, 'one form, for environment 3 only');
});

const PARAMETERS = [
  { object_type: 20, object_name: 'sample', parameter_name: 'Greeting', data_type: 'String',
    required: false, sensitive: false, design_default_value: 'Hello', value_set: true,
    value_type: 'R', default_value: null, referenced_variable_name: 'Salutation' },
  { object_type: 20, object_name: 'sample', parameter_name: 'Password', data_type: 'String',
    required: false, sensitive: true, design_default_value: null, value_set: true,
    value_type: 'V', default_value: null, referenced_variable_name: null },
  { object_type: 30, object_name: 'hello.sh', parameter_name: HOSTILE, data_type: 'Int32',
    required: true, sensitive: false, design_default_value: '5', value_set: false,
    value_type: 'V', default_value: '5', referenced_variable_name: null },
];

test('Projects link to each project, whose page shows what each parameter takes', () => {
  const list = renderProjects([{ folder_name: 'demo', project_name: 'sample', version: 3,
    package_count: 3, deployed_by: 'admin', last_deployed_time: '2026-12-07T06:00:00.000Z' }]);
  assert.match(list, /<a href="#\/projects\/demo\/sample">demo \/ sample<\/a>/);
  assert.match(renderProjects([]), /No project yet/);
  const html = renderProject('demo', 'sample', PARAMETERS, REFERENCES.slice(0, 1));
  assert.match(html, /<h1>demo \/ sample<\/h1>/);
  assert.match(html, /→ Salutation<\/span> <span class="hint">\(environment variable\)/);
  assert.match(html, /<td>Password<\/td>[\s\S]*\(sensitive\)<\/span> <span class="hint">\(set here\)/);
  assert.match(html, /package hello.sh<\/td>\n<td>Int32<\/td><td><span class="yes">yes<\/span><\/td>\n<td>5<\/td>/);
  assert.ok(!html.includes('<img'));
  assert.match(html, /reference 4: demo \/ Prod/);
  assert.ok(!html.includes('data-action'), 'a reader was offered a button');
});

test("a project's page lets an admin configure and clear parameters", () => {
  const can = { set_object_parameter_value: true, clear_object_parameter_value: true };
  const html = renderProject('demo', 'sample', PARAMETERS, [], { can });
  assert.equal((html.match(/data-action="parameter-form"/g) ?? []).length, 3);
  assert.equal((html.match(/data-action="clear-parameter"/g) ?? []).length, 2, 'Clear only where set');
  assert.match(html, /None \(<code>scaleout manage env ref/);
  const editing = renderProject('demo', 'sample', PARAMETERS, [], { can, editing: parameterKey(PARAMETERS[0]) });
  assert.match(editing, /<form class="panel" id="parameter-set" data-id="\[20,&quot;sample&quot;,&quot;Greeting&quot;\]">/);
  assert.match(editing, /<option value="R" selected>/);
  assert.match(editing, /name="parameter_value" value="Salutation"/);
  assert.ok(!editing.includes('data-action="parameter-form"'), 'Configure beside an open form');
  const secret = renderProject('demo', 'sample', PARAMETERS, [], { can, editing: parameterKey(PARAMETERS[1]) });
  assert.match(secret, /name="parameter_value" value=""/);
});

test("a project's page lists its versions, with Restore for those who may", () => {
  const versions = [
    { object_version_lsn: 9, current: false, package_count: 2, created_by: 'admin',
      created_time: '2026-12-07T09:00:00.000Z', restored_by: null, last_restored_time: null },
    { object_version_lsn: 4, current: true, package_count: 3, created_by: 'ada',
      created_time: '2026-12-06T08:00:00.000Z', restored_by: 'admin',
      last_restored_time: '2026-12-07T10:00:00.000Z' }];
  const reader = renderProject('demo', 'sample', [], [], { versions });
  assert.match(reader, /<h2>Versions<\/h2>/);
  assert.match(reader, /<td class="num">4<\/td><td><span class="yes">current<\/span><\/td>/);
  assert.match(reader, /<td>admin, 2026-12-07 10:00:00 UTC<\/td>/);
  assert.ok(!reader.includes('restore-version'), 'a reader was offered Restore');
  const admin = renderProject('demo', 'sample', [], [], { versions, can: { restore_project: true } });
  assert.equal((admin.match(/data-action="restore-version"/g) ?? []).length, 1, 'not on the current one');
  assert.match(admin, /data-action="restore-version" data-id="9"/);
  assert.ok(!renderProject('demo', 'sample', [], []).includes('Versions'));
});

test('Validate shows for a role that may, and its answer reads as one line', () => {
  assert.match(renderProject('demo', 'sample', [], [], { can: { validate_project: true } }),
    /<h1>demo \/ sample <button data-action="validate-project">Validate<\/button><\/h1>/);
  assert.ok(!renderProject('demo', 'sample', [], []).includes('validate-project'));
  assert.equal(validationSummary({ checks: 2, messages: [] }),
    'Valid: 2 package and environment combinations checked.');
  assert.equal(validationSummary({ checks: 2, messages: [
    { package_name: 'a.sh', reference_id: null, message: 'required parameter X has no value' },
    { package_name: 'a.sh', reference_id: 4, message: 'no such variable' }] }),
  '2 problems: a.sh: required parameter X has no value | a.sh with reference 4: no such variable');
});
