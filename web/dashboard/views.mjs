// The dashboard's views: pure functions from API results to HTML text.
// Every value from the catalog goes through escapeHtml (the page's CSP
// forbids inline script, so markup that slipped through could not run
// either). No DOM access here, so node's test runner covers this module.

// SSIS execution statuses, in the order of their codes (catalog.executions).
export const STATUSES = [
  'created', 'running', 'canceled', 'failed', 'pending',
  'ended unexpectedly', 'succeeded', 'stopping', 'completed',
];

// The statuses stop_operation accepts (a created execution is not started;
// a stopping one is on its way).
const STOPPABLE = new Set(['running', 'pending']);

export function escapeHtml(value) {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

// True when a caller holding `roles` may call `operation`, as the master's
// operation table (GET /api/v1/operations) says: an empty role list admits
// any principal. The master checks again on every call; this only decides
// which buttons to show.
export function canCall(operations, roles, operation) {
  const entry = (operations ?? []).find((op) => op.name === operation);
  if (!entry) return false;
  return entry.roles.length === 0 || entry.roles.some((role) => (roles ?? []).includes(role));
}

// "#/executions/42" -> {view: 'execution', id: 42}; "#/executions?status=failed"
// -> {view: 'executions', filters: {status: 'failed'}}. Anything unknown is
// the dashboard.
export function parseRoute(hash) {
  const text = String(hash ?? '').replace(/^#/, '');
  const [path, query = ''] = text.split('?');
  const parts = path.split('/').filter(Boolean);
  const filters = {};
  for (const [key, value] of new URLSearchParams(query)) {
    if (value !== '') filters[key] = value;
  }
  if (parts[0] === 'workers') return { view: 'workers', filters };
  if (parts[0] === 'environments') return { view: 'environments', filters };
  if (parts[0] === 'projects' && parts.length === 3) {
    return { view: 'project', folder: decodeURIComponent(parts[1]),
      project: decodeURIComponent(parts[2]), filters };
  }
  if (parts[0] === 'projects') return { view: 'projects', filters };
  if (parts[0] === 'executions' && parts.length === 2 && /^\d+$/.test(parts[1])) {
    return { view: 'execution', id: Number(parts[1]), filters };
  }
  if (parts[0] === 'executions') return { view: 'executions', filters };
  return { view: 'dashboard', filters };
}

// "#/executions?status=failed&folder_name=Sales"
export function executionsHash(filters) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(filters ?? {})) {
    if (value !== undefined && value !== null && value !== '') query.set(key, value);
  }
  const text = query.toString();
  return text ? `#/executions?${text}` : '#/executions';
}

// "2026-01-31T12:00:00.250Z" -> "2026-01-31 12:00:00 UTC"; null -> "".
export function formatTime(iso) {
  if (!iso) return '';
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1]} ${match[2]} UTC` : String(iso);
}

// Seconds between two ISO times as "1.2 s", "3 min 4 s"; "" when unknown.
export function formatDuration(startIso, endIso) {
  const start = Date.parse(startIso ?? '');
  const end = Date.parse(endIso ?? '');
  if (Number.isNaN(start) || Number.isNaN(end) || end < start) return '';
  const seconds = (end - start) / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function statusBadge(name) {
  const css = String(name ?? '').replaceAll(' ', '-');
  return `<span class="status status-${escapeHtml(css)}">${escapeHtml(name)}</span>`;
}

function yesNo(flag) {
  return flag ? '<span class="yes">yes</span>' : '<span class="no">no</span>';
}

function card(figure, label, href) {
  const body = `<div class="figure">${escapeHtml(figure)}</div><div class="label">${escapeHtml(label)}</div>`;
  return href ? `<a class="card" href="${escapeHtml(href)}">${body}</a>` : `<div class="card">${body}</div>`;
}

function shortId(guid) {
  return escapeHtml(String(guid ?? '').slice(0, 8));
}

function workerName(workersById, id) {
  if (!id) return '';
  const worker = workersById?.get?.(id);
  const label = worker?.display_name || shortId(id);
  return `<span class="mono" title="${escapeHtml(id)}">${escapeHtml(label)}</span>`;
}

// The Dashboard: the master, Scale Out, workers and executions by status
// (the `status` operation; `scaleout manage status`).
export function renderDashboard(status) {
  const workers = status.workers ?? {};
  const master = status.master_properties ?? {};
  const byStatus = status.executions_by_status ?? {};
  const statusCards = STATUSES.map((name) =>
    card(byStatus[name] ?? 0, name, executionsHash({ status: name }))).join('');
  return `
<h1>Dashboard</h1>
<div class="cards">
  ${card(status.scaleout_enabled ? 'enabled' : 'disabled', 'Scale Out')}
  ${card(status.default_execution_mode ?? '', 'default execution mode')}
  ${card(`${workers.online_and_enabled ?? 0} / ${workers.total ?? 0}`, 'workers online and enabled', '#/workers')}
  ${card(workers.online ?? 0, 'workers online', '#/workers')}
  ${card(workers.enabled ?? 0, 'workers enabled', '#/workers')}
</div>
<h2>Executions by status</h2>
<div class="cards">${statusCards}</div>
<h2>Master</h2>
<dl class="facts">
  <dt>address</dt><dd class="mono">${escapeHtml(master.MASTER_ADDRESS)}</dd>
  <dt>machine</dt><dd>${escapeHtml(master.MACHINE_NAME)}</dd>
  <dt>last online</dt><dd>${escapeHtml(formatTime(master.LAST_ONLINE_TIME))}</dd>
  <dt>certificate (SHA-256)</dt><dd class="mono">${escapeHtml(master.SSLCERT_THUMBPRINT)}</dd>
</dl>`;
}

// The Worker Manager: every worker with its state, capacity and last
// resources, and the buttons the caller's role allows (`can` names the
// operations allowed): Add (add_worker_agent), Enable / Disable, Edit
// (set_worker_agent_property) and Remove. `editing` is the worker whose
// form is open, 'new' for the Add form, or null.
export function renderWorkers(workers, { can = {}, editing = null } = {}) {
  const add = can.add_worker_agent && editing === null
    ? '<button class="primary" data-action="add-worker-form">Add worker</button>' : '';
  const form = editing === 'new' ? renderAddWorkerForm()
    : editing ? renderEditWorkerForm(workers.find((w) => w.worker_agent_id === editing)) : '';
  if (!workers.length) {
    return `<h1>Worker Manager ${add}</h1>${form}<p class="empty">No worker yet. Add one here or with
<code>scaleout manage worker add --cert worker.crt</code>, then start it.</p>`;
  }
  const rows = workers.map((w) => {
    const id = escapeHtml(w.worker_agent_id);
    const buttons = [];
    if (can.enable_worker_agent && !w.is_enabled) {
      buttons.push(`<button class="primary" data-action="enable-worker" data-id="${id}">Enable</button>`);
    }
    if (can.disable_worker_agent && w.is_enabled) {
      buttons.push(`<button class="danger" data-action="disable-worker" data-id="${id}">Disable</button>`);
    }
    if (can.set_worker_agent_property && editing === null) {
      buttons.push(`<button data-action="edit-worker-form" data-id="${id}">Edit</button>`);
    }
    if (can.remove_worker_agent) {
      buttons.push(`<button class="danger" data-action="remove-worker" data-id="${id}">Remove</button>`);
    }
    const cpu = typeof w.cpu_percent === 'number' ? `${w.cpu_percent.toFixed(0)} %` : '';
    const memory = typeof w.free_memory_mb === 'number' ? `${Math.round(w.free_memory_mb)} MB` : '';
    return `<tr>
  <td>${escapeHtml(w.display_name || '')}<div class="hint mono">${id}</div>${w.description ? `<div class="hint">${escapeHtml(w.description)}</div>` : ''}</td>
  <td>${yesNo(w.is_enabled)}</td>
  <td>${yesNo(w.is_online)}</td>
  <td>${escapeHtml(w.machine_name)}</td>
  <td class="num">${escapeHtml(w.running_tasks ?? 0)} / ${escapeHtml(w.max_task_count ?? 0)}</td>
  <td class="num">${escapeHtml(cpu)}</td>
  <td class="num">${escapeHtml(memory)}</td>
  <td>${escapeHtml(formatTime(w.last_online_time))}</td>
  <td>${escapeHtml(w.tags)}</td>
  <td><a href="${escapeHtml(executionsHash({ worker_agent_id: w.worker_agent_id }))}">executions</a></td>
  <td class="buttons">${buttons.join(' ')}</td>
</tr>`;
  }).join('');
  return `<h1>Worker Manager ${add}</h1>${form}
<table>
<thead><tr><th>worker</th><th>enabled</th><th>online</th><th>machine</th><th class="num">tasks</th>
<th class="num">CPU</th><th class="num">free memory</th><th>last online</th><th>tags</th><th></th><th></th></tr></thead>
<tbody>${rows}</tbody>
</table>`;
}

// Scale Out Manager's "+": trust a worker's certificate. The thumbprints
// are computed in the browser from the certificate file (certs.mjs), or
// pasted; the worker starts disabled, as in SSIS.
function renderAddWorkerForm() {
  return `<form class="panel" id="worker-add">
  <h2>Add a worker</h2>
  <label>the worker's certificate (worker.crt, PEM)<input name="cert_file" type="file" accept=".crt,.pem,.cer"></label>
  <label><span>or its SHA-256 thumbprint (<code>scaleout cert thumbprint worker.crt</code>)</span><input name="cert_sha256" class="mono" size="70"></label>
  <label>display name<input name="display_name"></label>
  <label>description<input name="description" size="50"></label>
  <div><button class="primary" type="submit">Add</button> <button type="button" data-action="close-form">Cancel</button></div>
  <p class="hint">The worker is added disabled. Give it this master's endpoint and thumbprint
  (<code>MasterEndpoint</code>, <code>MasterHttpsCertThumbprint</code>), start it, then Enable it here.</p>
</form>`;
}

function renderEditWorkerForm(worker) {
  if (!worker) return '';
  const field = (name, label, value) =>
    `<label>${label}<input name="${name}" value="${escapeHtml(value ?? '')}" data-was="${escapeHtml(value ?? '')}"></label>`;
  return `<form class="panel" id="worker-edit" data-id="${escapeHtml(worker.worker_agent_id)}">
  <h2>Edit worker <span class="mono">${escapeHtml(worker.worker_agent_id)}</span></h2>
  ${field('DisplayName', 'display name', worker.display_name)}
  ${field('Description', 'description', worker.description)}
  ${field('Tags', 'tags', worker.tags)}
  <div><button class="primary" type="submit">Save</button> <button type="button" data-action="close-form">Cancel</button></div>
</form>`;
}

// The properties an edit form changed: [{property_name, property_value}].
export function changedProperties(fields) {
  return fields.filter((f) => f.value !== f.was)
    .map((f) => ({ property_name: f.name, property_value: f.value }));
}

function filterInput(name, label, value) {
  return `<label>${escapeHtml(label)}<input name="${escapeHtml(name)}" value="${escapeHtml(value ?? '')}"></label>`;
}

// "Name=value" lines (blank lines skipped; the value may hold '=') as
// run_execution's parameters. Throws an Error naming a line without '='.
export function parseParameterLines(text) {
  const parameters = [];
  String(text ?? '').split(/\r?\n/).forEach((line, index) => {
    if (!line.trim()) return;
    const at = line.indexOf('=');
    if (at <= 0) throw new Error(`parameter line ${index + 1} is not NAME=VALUE: ${line.trim()}`);
    parameters.push({ name: line.slice(0, at).trim(), value: line.slice(at + 1) });
  });
  return parameters;
}

// The label of an environment reference: the project it belongs to and the
// environment it names.
function referenceLabel(r) {
  const envFolder = r.environment_folder_name ?? r.folder_name;
  return `${r.folder_name} / ${r.project_name}: ${envFolder} / ${r.environment_name} (reference ${r.reference_id})`;
}

// SSMS's "Execute Package in Scale Out": a package of the catalog, its
// environment, parameters, retries, the mode, and the workers allowed (none
// ticked: any worker). `packages` as list_packages returns them (entry
// points only are offered), `workers` as list_worker_agents, `references`
// as list_environment_references (every project's; the environment select
// shows only when there is one).
export function renderRunForm(packages, workers, references = []) {
  const entryPoints = packages.filter((p) => p.entry_point);
  if (!entryPoints.length) {
    return `<p class="empty">No package to run: deploy a project first
(<code>scaleout manage deploy --folder F --project P DIR</code>).</p>`;
  }
  const options = entryPoints.map((p) => {
    const value = JSON.stringify([p.folder_name, p.project_name, p.package_name]);
    return `<option value="${escapeHtml(value)}">${escapeHtml(p.folder_name)} / ${escapeHtml(p.project_name)} / ${escapeHtml(p.package_name)}</option>`;
  }).join('');
  const ticks = workers.map((w) => `<label class="tick"><input type="checkbox" name="workers" value="${escapeHtml(w.worker_agent_id)}">
${escapeHtml(w.display_name || w.worker_agent_id)}${w.is_enabled && w.is_online ? '' : ' <span class="hint">(not ready)</span>'}</label>`).join('');
  return `<form class="panel" id="execution-run">
  <h2>Run a package</h2>
  <label>package<select name="package">${options}</select></label>
  ${references.length ? `<label>environment<select name="reference"><option value="">none</option>${references.map((r) => `<option value="${escapeHtml(r.reference_id)}">${escapeHtml(referenceLabel(r))}</option>`).join('')}</select></label>` : ''}
  <label><span>parameters, one <code>NAME=VALUE</code> per line (project or package parameters)</span><textarea name="parameters" rows="3" class="mono"></textarea></label>
  <label>retries after a failed attempt (<code>retry_count</code>)<input name="retry_count" type="number" min="0" max="100" value="0"></label>
  <label>mode<select name="mode"><option value="">the catalog's default</option><option value="scaleout">Scale Out</option><option value="server">Server (on the master)</option></select></label>
  ${ticks ? `<fieldset><legend>only on these workers (none: any worker)</legend>${ticks}</fieldset>` : ''}
  <div><button class="primary" type="submit">Run</button> <button type="button" data-action="close-form">Cancel</button></div>
</form>`;
}

// run_execution's arguments from the Run form's values (`references` as
// renderRunForm got them). Throws an Error saying what to fix.
export function runArguments({ package: chosen, reference, parameters, retry_count: retries, mode, workers },
  references = []) {
  const [folder_name, project_name, package_name] = JSON.parse(chosen);
  const retry = Number(retries || 0);
  if (!Number.isInteger(retry) || retry < 0) throw new Error('retries must be a whole number, 0 or more');
  const args = { folder_name, project_name, package_name, retry_count: retry };
  if (reference) {
    const found = references.find((r) => String(r.reference_id) === String(reference));
    if (found && (found.folder_name !== folder_name || found.project_name !== project_name)) {
      throw new Error(`the environment ${referenceLabel(found)} is for another project; choose one of ${folder_name} / ${project_name} or none`);
    }
    args.reference_id = Number(reference);
  }
  const parsed = parseParameterLines(parameters);
  if (parsed.length) args.parameters = parsed;
  if (mode === 'scaleout') args.runinscaleout = true;
  if (mode === 'server') args.runinscaleout = false;
  if (workers?.length) {
    // An allow-list of workers means Scale Out, as in SSMS's dialog.
    if (mode === 'server') throw new Error('workers apply to Scale Out only; untick them or choose Scale Out');
    args.runinscaleout = true;
    args.workers = workers;
  }
  return args;
}

// All Executions: the filter form and the newest executions that match;
// `runForm` (renderRunForm's) above them when open, else a Run button when
// `canRun`.
export function renderExecutions(executions, filters, workersById,
  { limit = 200, canRun = false, runForm = '' } = {}) {
  const heading = `<h1>All Executions${canRun && !runForm ? ' <button class="primary" data-action="run-form">Run a package</button>' : ''}</h1>${runForm}`;
  const statusOptions = ['', ...STATUSES].map((name) =>
    `<option value="${escapeHtml(name)}"${name === (filters.status ?? '') ? ' selected' : ''}>${escapeHtml(name || 'any')}</option>`).join('');
  const form = `<form class="filters" id="execution-filters">
  <label>status<select name="status">${statusOptions}</select></label>
  ${filterInput('folder_name', 'folder', filters.folder_name)}
  ${filterInput('project_name', 'project', filters.project_name)}
  ${filterInput('package_name', 'package', filters.package_name)}
  ${filterInput('worker_agent_id', 'worker id', filters.worker_agent_id)}
  <button class="primary" type="submit">Filter</button>
  <a href="#/executions">clear</a>
</form>`;
  if (!executions.length) {
    return `${heading}${form}<p class="empty">No execution matches.</p>`;
  }
  const rows = executions.map((e) => `<tr>
  <td class="num"><a href="#/executions/${escapeHtml(e.execution_id)}">${escapeHtml(e.execution_id)}</a></td>
  <td>${statusBadge(e.status_name)}</td>
  <td>${escapeHtml(e.folder_name)} / ${escapeHtml(e.project_name)} / ${escapeHtml(e.package_name)}</td>
  <td>${workerName(workersById, e.worker_agent_id)}${e.runinscaleout ? '' : ' <span class="hint">(server)</span>'}</td>
  <td class="num">${escapeHtml(e.executed_count ?? 0)} / ${escapeHtml((e.retry_count ?? 0) + 1)}</td>
  <td>${escapeHtml(formatTime(e.start_time || e.created_time))}</td>
  <td class="num">${escapeHtml(formatDuration(e.start_time, e.end_time))}</td>
  <td>${escapeHtml(e.caller_name)}</td>
</tr>`).join('');
  const more = executions.length >= limit
    ? `<p class="hint">The newest ${limit} shown; narrow the filters to see older ones.</p>` : '';
  return `${heading}${form}
<table>
<thead><tr><th class="num">id</th><th>status</th><th>folder / project / package</th><th>worker</th>
<th class="num">attempts / allowed</th><th>started</th><th class="num">duration</th><th>caller</th></tr></thead>
<tbody>${rows}</tbody>
</table>${more}`;
}

// SSIS event message types worth a colour in the log.
function messageClass(type) {
  if (type === 120 || type === 130) return 'e';  // OnError, OnTaskFailed
  if (type === 110) return 'w';  // OnWarning
  return '';
}

export function renderMessages(messages) {
  if (!messages.length) return '<div class="log"><span class="t">no messages yet</span></div>';
  const lines = messages.map((m) => {
    const css = messageClass(m.message_type);
    const text = `${escapeHtml(m.message)}`;
    return `<span class="t">${escapeHtml(formatTime(m.message_time))} ${escapeHtml(m.message_source)}</span> ${css ? `<span class="${css}">${text}</span>` : text}`;
  });
  return `<div class="log" id="log">${lines.join('\n')}</div>`;
}

function parameterValue(p) {
  if (p.sensitive) return '<span class="hint">(sensitive)</span>';
  if (p.value === null || p.value === undefined) return '<span class="hint">(none)</span>';
  return escapeHtml(p.value);
}

// One execution: its facts, every attempt with the worker that ran it, the
// parameters and the event messages; Stop while it can still be stopped.
export function renderExecution(execution, messages, workersById, { canStop = false } = {}) {
  const e = execution;
  const stop = canStop && STOPPABLE.has(e.status_name) && !e.stop_requested
    ? `<button class="danger" data-action="stop-execution" data-id="${escapeHtml(e.execution_id)}">Stop</button>` : '';
  const attempts = (e.attempts ?? []).map((a) => `<tr>
  <td class="num">${escapeHtml(a.attempt)}</td>
  <td>${statusBadge(a.status_name)}</td>
  <td>${a.server_only ? 'the master (server mode)' : workerName(workersById, a.worker_agent_id)}</td>
  <td>${escapeHtml(formatTime(a.start_time))}</td>
  <td class="num">${escapeHtml(formatDuration(a.start_time, a.end_time))}</td>
  <td class="num">${escapeHtml(a.exit_code ?? '')}</td>
  <td>${escapeHtml(a.result_message)}</td>
</tr>`).join('');
  const parameters = (e.parameters ?? []).filter((p) => p.object_type !== 50 || p.value_set)
    .map((p) => `<tr><td>${escapeHtml(p.parameter_name)}</td><td>${escapeHtml(p.object_type === 20 ? 'project' : p.object_type === 30 ? 'package' : 'system')}</td><td>${parameterValue(p)}</td></tr>`)
    .join('');
  return `<h1>Execution ${escapeHtml(e.execution_id)} ${statusBadge(e.status_name)} ${stop}</h1>
<dl class="facts">
  <dt>package</dt><dd>${escapeHtml(e.folder_name)} / ${escapeHtml(e.project_name)} / ${escapeHtml(e.package_name)} <span class="hint">(project version ${escapeHtml(e.project_lsn)})</span></dd>
  <dt>mode</dt><dd>${e.runinscaleout ? 'Scale Out' : 'Server (on the master)'}${e.useanyworker ? '' : ', listed workers only'}</dd>
  ${e.reference_id != null ? `<dt>environment</dt><dd>reference ${escapeHtml(e.reference_id)}</dd>` : ''}
  <dt>worker</dt><dd>${workerName(workersById, e.worker_agent_id)}</dd>
  <dt>attempts</dt><dd>${escapeHtml(e.executed_count ?? 0)} of at most ${escapeHtml((e.retry_count ?? 0) + 1)}</dd>
  <dt>created</dt><dd>${escapeHtml(formatTime(e.created_time))} by ${escapeHtml(e.caller_name)}</dd>
  ${e.end_time ? `<dt>ended</dt><dd>${escapeHtml(formatTime(e.end_time))} (after ${escapeHtml(formatDuration(e.start_time, e.end_time))})</dd>` : ''}
  ${e.stop_requested ? `<dt>stop</dt><dd>requested${e.stopped_by_name ? ` by ${escapeHtml(e.stopped_by_name)}` : ''}</dd>` : ''}
</dl>
<h2>Attempts</h2>
${attempts ? `<table><thead><tr><th class="num">#</th><th>status</th><th>worker</th><th>started</th><th class="num">duration</th><th class="num">exit</th><th>result</th></tr></thead><tbody>${attempts}</tbody></table>` : '<p class="empty">Not started yet.</p>'}
${parameters ? `<h2>Parameters</h2><table><thead><tr><th>name</th><th>kind</th><th>value</th></tr></thead><tbody>${parameters}</tbody></table>` : ''}
<h2>Messages</h2>
${renderMessages(messages)}`;
}

// The data types of a parameter, and so of an environment variable.
export const DATA_TYPES = ['String', 'Boolean', 'Byte', 'DateTime', 'Decimal', 'Double', 'Int16',
  'Int32', 'Int64', 'SByte', 'Single', 'UInt32', 'UInt64'];

// The data-id of a button that names an environment or one of its variables.
export function environmentKey(...names) {
  return JSON.stringify(names);
}

function renderEnvironmentForm() {
  return `<form class="panel" id="environment-create">
  <h2>New environment</h2>
  <label>folder<input name="folder_name" required></label>
  <label>name<input name="environment_name" required></label>
  <label>description<input name="environment_description" size="50"></label>
  <div><button class="primary" type="submit">Create</button> <button type="button" data-action="close-form">Cancel</button></div>
</form>`;
}

function renderVariableForm(environment) {
  const types = DATA_TYPES.map((t) => `<option>${escapeHtml(t)}</option>`).join('');
  return `<form class="panel" id="variable-add" data-folder="${escapeHtml(environment.folder_name)}" data-environment="${escapeHtml(environment.environment_name)}">
  <h3>Add a variable</h3>
  <label>name<input name="variable_name" required></label>
  <label>data type<select name="data_type">${types}</select></label>
  <label>value<input name="value"></label>
  <label class="tick"><input type="checkbox" name="sensitive" value="1"> sensitive (never shown again)</label>
  <label>description<input name="description" size="40"></label>
  <div><button class="primary" type="submit">Add</button> <button type="button" data-action="close-form">Cancel</button></div>
</form>`;
}

// Environments (SSISDB's): each with its variables, a sensitive value never
// shown; the references projects have to them. `can` holds the operations
// the principal may call, `editing` the open form: 'new-environment', or an
// environment's id for its Add variable form.
export function renderEnvironments(environments, references, { can = {}, editing = null } = {}) {
  const create = can.create_environment && editing === null
    ? ' <button class="primary" data-action="environment-form">New environment</button>' : '';
  const form = editing === 'new-environment' ? renderEnvironmentForm() : '';
  if (!environments.length) {
    return `<h1>Environments${create}</h1>${form}<p class="empty">No environment yet. Create one here or with
<code>scaleout manage env create NAME --folder F</code>; bind parameters to its variables with
<code>scaleout manage project param ... NAME --env-var VARIABLE</code>.</p>`;
  }
  const sections = environments.map((e) => {
    const key = escapeHtml(environmentKey(e.folder_name, e.environment_name));
    const remove = can.delete_environment
      ? ` <button class="danger" data-action="delete-environment" data-id="${key}">Delete</button>` : '';
    const add = can.create_environment_variable && editing === null
      ? ` <button data-action="variable-form" data-id="${escapeHtml(e.environment_id)}">Add variable</button>` : '';
    const rows = e.variables.map((v) => {
      const removeVariable = can.delete_environment_variable
        ? `<button class="danger" data-action="delete-variable" data-id="${escapeHtml(environmentKey(e.folder_name, e.environment_name, v.name))}">Remove</button>` : '';
      return `<tr><td>${escapeHtml(v.name)}</td><td>${escapeHtml(v.data_type)}</td>
<td>${v.sensitive ? '<span class="hint">(sensitive)</span>' : escapeHtml(v.value)}</td>
<td>${escapeHtml(v.description)}</td><td class="buttons">${removeVariable}</td></tr>`;
    }).join('');
    const table = rows
      ? `<table><thead><tr><th>variable</th><th>data type</th><th>value</th><th>description</th><th></th></tr></thead><tbody>${rows}</tbody></table>`
      : '<p class="empty">No variable yet.</p>';
    const variableForm = String(editing) === String(e.environment_id) ? renderVariableForm(e) : '';
    return `<section>
<h2>${escapeHtml(e.folder_name)} / ${escapeHtml(e.environment_name)}${add}${remove}</h2>
${e.description ? `<p class="hint">${escapeHtml(e.description)}</p>` : ''}
${variableForm}${table}
</section>`;
  }).join('');
  const referenceRows = references.map((r) => `<tr><td class="num">${escapeHtml(r.reference_id)}</td>
<td>${escapeHtml(r.folder_name)} / ${escapeHtml(r.project_name)}</td>
<td>${escapeHtml(r.environment_folder_name ?? r.folder_name)} / ${escapeHtml(r.environment_name)}</td>
<td>${r.reference_type === 'A' ? 'absolute' : 'relative'}</td></tr>`).join('');
  const referenceTable = referenceRows
    ? `<table><thead><tr><th class="num">reference</th><th>project</th><th>environment</th><th>kind</th></tr></thead><tbody>${referenceRows}</tbody></table>`
    : `<p class="empty">No project refers to an environment yet
(<code>scaleout manage env ref NAME --folder F --project P</code>).</p>`;
  return `<h1>Environments${create}</h1>${form}${sections}
<h2>References</h2>
${referenceTable}`;
}

// "#/projects/<folder>/<project>", each name encoded.
export function projectHash(folder, project) {
  return `#/projects/${encodeURIComponent(folder)}/${encodeURIComponent(project)}`;
}

// The projects deployed (list_projects), each linking to its parameters.
export function renderProjects(projects) {
  if (!projects.length) {
    return `<h1>Projects</h1><p class="empty">No project yet: deploy one with
<code>scaleout manage deploy --folder F --project P DIR</code>.</p>`;
  }
  const rows = projects.map((p) => `<tr><td><a href="${escapeHtml(projectHash(p.folder_name, p.project_name))}">${escapeHtml(p.folder_name)} / ${escapeHtml(p.project_name)}</a></td>
<td class="num">${escapeHtml(p.version)}</td><td class="num">${escapeHtml(p.package_count)}</td>
<td>${escapeHtml(p.deployed_by)}</td><td>${escapeHtml(formatTime(p.last_deployed_time))}</td></tr>`).join('');
  return `<h1>Projects</h1>
<table><thead><tr><th>project</th><th class="num">version</th><th class="num">packages</th><th>deployed by</th><th>deployed</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

// The data-id of a parameter's buttons, and the form's.
export function parameterKey(p) {
  return JSON.stringify([p.object_type, p.object_name, p.parameter_name]);
}

// validate_project's answer as one line for the banner.
export function validationSummary(result) {
  if (!result.messages.length) {
    return `Valid: ${result.checks} package and environment combinations checked.`;
  }
  const problems = result.messages.map((m) =>
    `${m.package_name}${m.reference_id == null ? '' : ` with reference ${m.reference_id}`}: ${m.message}`);
  return `${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems.join(' | ')}`;
}

// What a parameter is set to: bound to a variable, a value the project set,
// or its design default (a sensitive value never shown).
function configuredValue(p) {
  if (p.value_type === 'R') return `<span class="mono">→ ${escapeHtml(p.referenced_variable_name)}</span> <span class="hint">(environment variable)</span>`;
  const value = p.sensitive ? '<span class="hint">(sensitive)</span>'
    : p.default_value === null || p.default_value === undefined ? '<span class="hint">(none)</span>'
      : escapeHtml(p.default_value);
  return p.value_set ? `${value} <span class="hint">(set here)</span>` : value;
}

function renderParameterForm(p) {
  const bound = p.value_type === 'R';
  return `<form class="panel" id="parameter-set" data-id="${escapeHtml(parameterKey(p))}">
  <h3>Configure ${escapeHtml(p.parameter_name)} <span class="hint">(${escapeHtml(p.data_type)})</span></h3>
  <label>take<select name="value_type"><option value="V"${bound ? '' : ' selected'}>this value</option><option value="R"${bound ? ' selected' : ''}>the value of this environment variable</option></select></label>
  <label>value or variable name<input name="parameter_value" value="${escapeHtml(bound ? p.referenced_variable_name : p.value_set && !p.sensitive ? p.default_value : '')}"></label>
  <div><button class="primary" type="submit">Save</button> <button type="button" data-action="close-form">Cancel</button></div>
  <p class="hint">A parameter bound to a variable takes its value from the environment an execution is run with.</p>
</form>`;
}

// SSMS's Versions dialog: the versions the catalog keeps (list_project_versions,
// newest first), with Restore on each but the current one for those who may.
function renderVersions(versions, can) {
  if (!versions.length) return '';
  const rows = versions.map((v) => {
    const restore = can.restore_project && !v.current
      ? `<button data-action="restore-version" data-id="${escapeHtml(v.object_version_lsn)}">Restore</button>` : '';
    return `<tr><td class="num">${escapeHtml(v.object_version_lsn)}</td><td>${v.current ? '<span class="yes">current</span>' : ''}</td>
<td class="num">${escapeHtml(v.package_count)}</td><td>${escapeHtml(v.created_by)}</td><td>${escapeHtml(formatTime(v.created_time))}</td>
<td>${v.restored_by ? `${escapeHtml(v.restored_by)}, ${escapeHtml(formatTime(v.last_restored_time))}` : ''}</td><td class="buttons">${restore}</td></tr>`;
  }).join('');
  return `<h2>Versions</h2>
<table><thead><tr><th class="num">version</th><th></th><th class="num">packages</th><th>deployed by</th><th>deployed</th><th>restored</th><th></th></tr></thead><tbody>${rows}</tbody></table>`;
}

// SSMS's Configure dialog for one project: its parameters (the project's and
// each package's) with what they are set or bound to, and the environments
// it refers to; Validate checks them against every environment. Below, its
// versions (renderVersions). `can` and `editing` (a parameterKey) as
// renderEnvironments.
export function renderProject(folder, project, parameters, references,
  { can = {}, editing = null, versions = [] } = {}) {
  const rows = parameters.map((p) => {
    const key = parameterKey(p);
    const buttons = [];
    if (can.set_object_parameter_value && editing === null) {
      buttons.push(`<button data-action="parameter-form" data-id="${escapeHtml(key)}">Configure</button>`);
    }
    if (can.clear_object_parameter_value && p.value_set) {
      buttons.push(`<button data-action="clear-parameter" data-id="${escapeHtml(key)}">Clear</button>`);
    }
    const form = editing === key ? `<tr><td colspan="6">${renderParameterForm(p)}</td></tr>` : '';
    return `<tr><td>${escapeHtml(p.parameter_name)}</td>
<td>${p.object_type === 20 ? 'project' : `package ${escapeHtml(p.object_name)}`}</td>
<td>${escapeHtml(p.data_type)}</td><td>${yesNo(p.required)}</td>
<td>${configuredValue(p)}</td><td class="buttons">${buttons.join(' ')}</td></tr>${form}`;
  }).join('');
  const table = rows
    ? `<table><thead><tr><th>parameter</th><th>of</th><th>data type</th><th>required</th><th>value</th><th></th></tr></thead><tbody>${rows}</tbody></table>`
    : '<p class="empty">The project declares no parameter.</p>';
  const refs = references.map((r) => `<li>reference ${escapeHtml(r.reference_id)}: ${escapeHtml(r.environment_folder_name ?? r.folder_name)} / ${escapeHtml(r.environment_name)}</li>`).join('');
  const validate = can.validate_project
    ? ' <button data-action="validate-project">Validate</button>' : '';
  return `<h1>${escapeHtml(folder)} / ${escapeHtml(project)}${validate}</h1>
<h2>Parameters</h2>
${table}
<h2>Environment references</h2>
${refs ? `<ul>${refs}</ul>` : '<p class="empty">None (<code>scaleout manage env ref NAME --folder F --project P</code>).</p>'}
${renderVersions(versions, can)}`;
}

export function renderLogin(error) {
  return `<h1>Sign in</h1>
<form class="login" id="login">
  <label>API token<input name="token" type="password" autocomplete="off" required placeholder="sot_..."></label>
  <button class="primary" type="submit">Sign in</button>
  ${error ? `<p class="status-failed">${escapeHtml(error)}</p>` : ''}
  <p class="hint">A principal's token, from <code>scaleout master init</code> or
  <code>scaleout manage user add NAME --role ssis_reader --token</code>. It stays in this tab
  only (session storage) and goes to this master alone.</p>
</form>`;
}
