// The dashboard's page logic: sign-in, the hash router, periodic refresh
// and the buttons. Rendering is views.mjs; the calls are api.mjs.
import { ApiError, createApi } from './api.mjs';
import {
  canCall, executionsHash, parseRoute, renderDashboard, renderExecution, renderExecutions,
  renderLogin, renderWorkers,
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
};

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
      || (view === 'execution' && link.dataset.view === 'executions'));
  }
}

// Renders the current route; a refresh keeps the page's scroll position and
// leaves a filter form the user is typing in alone.
async function render({ refresh = false } = {}) {
  clearTimeout(state.timer);
  if (!state.api) return showLogin();
  const route = parseRoute(location.hash);
  markNav(route.view);
  const view = $('view');
  try {
    if (route.view === 'workers') {
      const workers = await state.api.call('list_worker_agents');
      view.innerHTML = renderWorkers(workers, { canEnable: can('enable_worker_agent') });
    } else if (route.view === 'executions') {
      if (refresh && view.contains(document.activeElement) && document.activeElement.form) {
        state.timer = setTimeout(() => render({ refresh: true }), REFRESH_MS);
        return;
      }
      const [rows, workers] = await Promise.all([
        state.api.call('list_executions', { ...route.filters, limit: EXECUTION_LIMIT }),
        workersById(),
      ]);
      view.innerHTML = renderExecutions(rows, route.filters, workers, { limit: EXECUTION_LIMIT });
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

async function act(action, id) {
  const calls = {
    'enable-worker': ['enable_worker_agent', { worker_agent_id: id }, null],
    'disable-worker': ['disable_worker_agent', { worker_agent_id: id },
      `Disable worker ${id}? It finishes its running tasks but takes no new ones.`],
    'stop-execution': ['stop_operation', { operation_id: Number(id) },
      `Stop execution ${id}? Its package is told to stop, then killed.`],
  };
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

function wire() {
  window.addEventListener('hashchange', () => render());
  $('view').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-action]');
    if (button) {
      button.disabled = true;
      act(button.dataset.action, button.dataset.id);
    }
  });
  $('view').addEventListener('submit', (event) => {
    if (event.target.id !== 'execution-filters') return;
    event.preventDefault();
    location.hash = executionsHash(Object.fromEntries(new FormData(event.target)));
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
