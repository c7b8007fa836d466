// The dashboard's page logic: sign-in, the hash router, periodic refresh
// and the buttons. Rendering is views.mjs; the calls are api.mjs.
import { ApiError, createApi } from './api.mjs';
import { thumbprints } from './certs.mjs';
import {
  canCall, changedProperties, executionsHash, parseRoute, renderDashboard, renderEnvironments,
  renderExecution, renderExecutions, renderLogin, renderProject, renderProjects, renderRunForm,
  renderWorkers, runArguments, validationSummary,
} from './views.mjs';

const TOKEN_KEY = 'scaleout.token';
const REFRESH_MS = 5000;
const EXECUTION_LIMIT = 200;

const state = {
  api: null,
  principal: null,   // {name, roles}
  operations: [],    // the master's operation table, with roles
  timer: null,
  messages: [],      // the shown execution's messages so far
  messagesOf: null,  // ... and its id
  editing: null,     // the open form: a worker id, 'new' (add a worker), 'run', or null
  references: [],    // the environment references the Run form offers
};

// The worker operations whose buttons the Worker Manager may show.
const WORKER_OPERATIONS = ['add_worker_agent', 'enable_worker_agent', 'disable_worker_agent',
  'set_worker_agent_property', 'remove_worker_agent'];
// ... and those whose buttons the Environments page may show.
const ENVIRONMENT_OPERATIONS = ['create_environment', 'delete_environment',
  'create_environment_variable', 'delete_environment_variable'];
// ... and those a project's page may show.
const PROJECT_OPERATIONS = ['set_object_parameter_value', 'clear_object_parameter_value',
  'validate_project', 'restore_project'];

const $ = (id) => document.getElementById(id);

function showBanner(text, kind = 'error') {
  const banner = $('banner');
  banner.textContent = text;
  banner.className = kind === 'info' ? 'info' : '';
  banner.hidden = !text;
}

function describe(error) {
  if (error instanceof ApiError) {
    if (error.httpStatus === 403) return `${error.message} (your principal lacks the role)`;
    return error.message;
  }
  return String(error?.message ?? error);
}

async function signIn(token) {
  const api = createApi(token);
  const principal = await api.call('whoami');
  const operations = await api.call('operations');
  Object.assign(state, { api, principal, operations });
  sessionStorage.setItem(TOKEN_KEY, token);
  $('nav').hidden = false;
  $('who').innerHTML = '';
  const who = document.createElement('span');
  who.textContent = `${principal.name} (${principal.roles.join(', ') || 'no role'})`;
  const out = document.createElement('button');
  out.textContent = 'Sign out';
  out.addEventListener('click', signOut);
  $('who').append(who, out);
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  Object.assign(state, { api: null, principal: null, operations: [] });
  $('nav').hidden = true;
  $('who').textContent = '';
  clearTimeout(state.timer);
  showLogin();
}

function showLogin(error) {
  $('view').innerHTML = renderLogin(error);
  $('login').addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = new FormData(event.target).get('token').trim();
    try {
      await signIn(token);
      showBanner('');
      await render();
    } catch (e) {
      showLogin(describe(e));
    }
  });
}

const can = (operation) => canCall(state.operations, state.principal?.roles, operation);

async function workersById() {
  if (!can('list_worker_agents')) return new Map();
  const workers = await state.api.call('list_worker_agents');
  return new Map(workers.map((w) => [w.worker_agent_id, w]));
}

// Keeps the shown log and appends only new messages on each refresh.
async function executionMessages(id) {
  if (state.messagesOf !== id) Object.assign(state, { messages: [], messagesOf: id });
  const last = state.messages.at(-1)?.event_message_id ?? 0;
  const more = await state.api.call('list_event_messages',
    { operation_id: id, after_event_message_id: last, limit: 1000 });
  state.messages.push(...more);
  return state.messages;
}

function markNav(view) {
  for (const link of document.querySelectorAll('#nav a')) {
    link.classList.toggle('active', link.dataset.view === view
      || (view === 'execution' && link.dataset.view === 'executions')
      || (view === 'project' && link.dataset.view === 'projects'));
  }
}

// Renders the current route; a refresh keeps the page's scroll position and
// leaves an open form, or a filter the user is typing in, alone.
async function render({ refresh = false } = {}) {
  clearTimeout(state.timer);
  if (!state.api) return showLogin();
  const route = parseRoute(location.hash);
  markNav(route.view);
  const view = $('view');
  // A refresh leaves an open form, or a field being typed in, alone.
  const typing = view.contains(document.activeElement) && document.activeElement.form;
  if (refresh && (typing || state.editing !== null)) {
    state.timer = setTimeout(() => render({ refresh: true }), REFRESH_MS);
    return;
  }
  try {
    if (route.view === 'workers') {
      const workers = await state.api.call('list_worker_agents');
      const allowed = Object.fromEntries(WORKER_OPERATIONS.map((op) => [op, can(op)]));
      view.innerHTML = renderWorkers(workers, { can: allowed, editing: state.editing });
    } else if (route.view === 'projects') {
      view.innerHTML = renderProjects(await state.api.call('list_projects'));
    } else if (route.view === 'project') {
      const names = { folder_name: route.folder, project_name: route.project };
      const [parameters, references, versions] = await Promise.all([
        state.api.call('list_object_parameters', names),
        state.api.call('list_environment_references', names),
        state.api.call('list_project_versions', names)]);
      const allowed = Object.fromEntries(PROJECT_OPERATIONS.map((op) => [op, can(op)]));
      view.innerHTML = renderProject(route.folder, route.project, parameters, references,
        { can: allowed, editing: state.editing, versions });
    } else if (route.view === 'environments') {
      const [environments, references] = await Promise.all([
        state.api.call('list_environments'), state.api.call('list_environment_references')]);
      const allowed = Object.fromEntries(ENVIRONMENT_OPERATIONS.map((op) => [op, can(op)]));
      view.innerHTML = renderEnvironments(environments, references,
        { can: allowed, editing: state.editing });
    } else if (route.view === 'executions') {
      const running = state.editing === 'run';
      const [rows, workers, packages, references] = await Promise.all([
        state.api.call('list_executions', { ...route.filters, limit: EXECUTION_LIMIT }),
        workersById(),
        running ? state.api.call('list_packages') : [],
        running ? state.api.call('list_environment_references') : [],
      ]);
      state.references = references;
      const runForm = running ? renderRunForm(packages, [...workers.values()], references) : '';
      view.innerHTML = renderExecutions(rows, route.filters, workers,
        { limit: EXECUTION_LIMIT, canRun: can('run_execution'), runForm });
    } else if (route.view === 'execution') {
      const [execution, workers, messages] = await Promise.all([
        state.api.call('get_execution', { execution_id: route.id }),
        workersById(),
        executionMessages(route.id),
      ]);
      const log = $('log');
      const atBottom = !log || log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
      view.innerHTML = renderExecution(execution, messages, workers, { canStop: can('stop_operation') });
      const newLog = $('log');
      if (newLog && atBottom) newLog.scrollTop = newLog.scrollHeight;
    } else {
      view.innerHTML = renderDashboard(await state.api.call('status'));
    }
    if (refresh) showBanner('');
  } catch (error) {
    if (error instanceof ApiError && error.httpStatus === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      return showLogin('The master no longer accepts this token; sign in again.');
    }
    showBanner(describe(error));
  }
  state.timer = setTimeout(() => render({ refresh: true }), REFRESH_MS);
}

// Opens or closes a Worker Manager form.
const FORMS = {
  'add-worker-form': () => 'new', 'edit-worker-form': (id) => id, 'run-form': () => 'run',
  'environment-form': () => 'new-environment', 'variable-form': (id) => id,
  'parameter-form': (id) => id,
  'close-form': () => null,
};

// Validate on a project's page: the answer goes to the banner.
async function validateProject() {
  const route = parseRoute(location.hash);
  try {
    const result = await state.api.call('validate_project',
      { folder_name: route.folder, project_name: route.project }, { write: true });
    showBanner(validationSummary(result), result.messages.length ? 'error' : 'info');
  } catch (error) {
    showBanner(describe(error));
  }
  await render();
}

// The parameter of the shown project a data-id names (views.mjs's parameterKey).
function parameterArgs(id) {
  const [object_type, object_name, parameter_name] = JSON.parse(id);
  const route = parseRoute(location.hash);
  const args = { folder_name: route.folder, project_name: route.project, object_type, parameter_name };
  if (object_type === 30) args.object_name = object_name;
  return args;
}

// The environment (and variable) a button's data-id names (views.mjs's environmentKey).
function environmentArgs(id) {
  const [folder_name, environment_name, variable_name] = JSON.parse(id);
  return variable_name === undefined ? { folder_name, environment_name }
    : { folder_name, environment_name, variable_name };
}

async function act(action, id) {
  if (action in FORMS) {
    state.editing = FORMS[action](id);
    return render();
  }
  if (action === 'validate-project') return validateProject();
  const calls = {
    'enable-worker': ['enable_worker_agent', { worker_agent_id: id }, null],
    'disable-worker': ['disable_worker_agent', { worker_agent_id: id },
      `Disable worker ${id}? It finishes its running tasks but takes no new ones.`],
    'remove-worker': ['remove_worker_agent', { worker_agent_id: id },
      `Remove worker ${id}? Its certificate is no longer trusted; it must be added again to work.`],
    'stop-execution': ['stop_operation', { operation_id: Number(id) },
      `Stop execution ${id}? Its package is told to stop, then killed.`],
  };
  if (action === 'restore-version') {
    const route = parseRoute(location.hash);
    calls[action] = ['restore_project',
      { folder_name: route.folder, project_name: route.project, object_version_lsn: Number(id) },
      `Make version ${id} of ${route.project} current again? Executions created from now on run it; ones created for the current version can no longer start.`];
  } else if (action === 'clear-parameter') {
    const args = parameterArgs(id);
    calls[action] = ['clear_object_parameter_value', args,
      `Clear ${args.parameter_name}? It takes its design default again.`];
  } else if (action === 'delete-environment') {
    const args = environmentArgs(id);
    calls[action] = ['delete_environment', args,
      `Delete environment ${args.folder_name} / ${args.environment_name} and its variables?`];
  } else if (action === 'delete-variable') {
    const args = environmentArgs(id);
    calls[action] = ['delete_environment_variable', args,
      `Remove variable ${args.variable_name} from ${args.environment_name}? Parameters bound to it can no longer run with this environment.`];
  }
  const [operation, args, question] = calls[action] ?? [];
  if (!operation || (question && !window.confirm(question))) return;
  try {
    await state.api.call(operation, args, { write: true });
    showBanner(`${operation}: done`, 'info');
  } catch (error) {
    showBanner(describe(error));
  }
  await render();
}

function readFileText(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(new Error(`cannot read ${file.name}`));
    reader.readAsText(file);
  });
}

// The Add form: the thumbprints from the certificate file, or as pasted.
async function addWorker(form) {
  const fields = new FormData(form);
  const file = form.querySelector('input[name=cert_file]').files?.[0];
  const args = {};
  for (const name of ['cert_sha256', 'display_name', 'description']) {
    const value = String(fields.get(name) ?? '').trim();
    if (value) args[name] = value;
  }
  if (file) {
    const { sha256, sha1 } = await thumbprints(await readFileText(file));
    Object.assign(args, { cert_sha256: sha256, cert_sha1: sha1 });
  }
  if (!args.cert_sha256) throw new Error("pick the worker's certificate file or paste its thumbprint");
  const worker = await state.api.call('add_worker_agent', args, { write: true });
  return `Worker ${worker.worker_agent_id} added (disabled); start it, then Enable it here.`;
}

async function editWorker(form) {
  const changes = changedProperties([...form.querySelectorAll('input[data-was]')]
    .map((input) => ({ name: input.name, value: input.value.trim(), was: input.dataset.was })));
  for (const change of changes) {
    await state.api.call('set_worker_agent_property',
      { worker_agent_id: form.dataset.id, ...change }, { write: true });
  }
  return changes.length ? `Worker ${form.dataset.id} saved.` : 'Nothing changed.';
}

// The Run form: run_execution, then the new execution's page.
async function runPackage(form) {
  const fields = new FormData(form);
  const values = Object.fromEntries(fields);
  const execution = await state.api.call('run_execution',
    runArguments({ ...values, workers: fields.getAll('workers') }, state.references ?? []),
    { write: true });
  location.hash = `#/executions/${execution.execution_id}`;
  return `Execution ${execution.execution_id} started.`;
}

async function createEnvironment(form) {
  const fields = Object.fromEntries(new FormData(form));
  await state.api.call('create_environment', fields, { write: true });
  return `Environment ${fields.folder_name} / ${fields.environment_name} created.`;
}

async function addVariable(form) {
  const fields = new FormData(form);
  const args = {
    folder_name: form.dataset.folder, environment_name: form.dataset.environment,
    variable_name: String(fields.get('variable_name') ?? '').trim(),
    data_type: fields.get('data_type'), value: fields.get('value') ?? '',
    sensitive: fields.get('sensitive') === '1', description: fields.get('description') ?? '',
  };
  await state.api.call('create_environment_variable', args, { write: true });
  return `Variable ${args.variable_name} added to ${args.environment_name}.`;
}

async function setParameter(form) {
  const fields = new FormData(form);
  const args = { ...parameterArgs(form.dataset.id), value_type: fields.get('value_type'),
    parameter_value: String(fields.get('parameter_value') ?? '') };
  await state.api.call('set_object_parameter_value', args, { write: true });
  return args.value_type === 'R'
    ? `${args.parameter_name} is bound to the environment variable ${args.parameter_value}.`
    : `${args.parameter_name} set.`;
}

const SUBMITS = {
  'worker-add': addWorker, 'worker-edit': editWorker, 'execution-run': runPackage,
  'environment-create': createEnvironment, 'variable-add': addVariable,
  'parameter-set': setParameter,
};

async function submitForm(form) {
  try {
    showBanner(await SUBMITS[form.id](form), 'info');
    state.editing = null;
  } catch (error) {
    showBanner(describe(error));
    for (const button of form.querySelectorAll('button')) button.disabled = false;
    return;
  }
  await render();
}

function wire() {
  window.addEventListener('hashchange', () => {
    state.editing = null;
    render();
  });
  $('view').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-action]');
    if (button) {
      button.disabled = true;
      act(button.dataset.action, button.dataset.id);
    }
  });
  $('view').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.target;
    if (form.id === 'execution-filters') {
      location.hash = executionsHash(Object.fromEntries(new FormData(form)));
    } else if (form.id in SUBMITS) {
      for (const button of form.querySelectorAll('button')) button.disabled = true;
      submitForm(form);
    }
  });
}

async function start() {
  wire();
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return showLogin();
  try {
    await signIn(token);
  } catch (error) {
    return showLogin(describe(error));
  }
  await render();
}

start();
