// The playground: pick a model (from /v1/models), write system and user messages, set
// temperature, max tokens and streaming, and chat over several turns. Answers render as
// Markdown as they stream; under each answer: time to first token, total time, tokens in and
// out, cost, provider and deployment, attempts, cache status and guardrail findings. Compare
// sends the same prompt to two models side by side; "Copy as" gives the current request as
// curl, Python or TypeScript.

import { h, append, replace, field, select, notice, copyButton, fmt } from './dom.js';
import { gateway, gatewayRaw, readEvents, ApiError } from './api.js';
import { renderMarkdown } from './markdown.js';
import * as snippets from './snippets.js';

export async function playground(root) {
  let models = [];
  try {
    models = ((await gateway('/v1/models')) || {}).data.map((m) => m.id);
  } catch (e) {
    append(root, notice('error', `Cannot list models: ${e.message}`));
    return;
  }
  if (!models.length) {
    append(root, notice('error', 'This key may use no model.'));
    return;
  }
  const form = {
    model: select(models, { id: 'pg-model', name: 'model' }),
    compare: h('input', { type: 'checkbox', id: 'pg-compare' }),
    model2: select(models, { id: 'pg-model2', name: 'model2', value: models[1] || models[0] }),
    system: h('textarea', { id: 'pg-system', rows: '2', placeholder: 'You are a helpful assistant.' }),
    temperature: h('input', { type: 'number', id: 'pg-temperature', min: '0', max: '2', step: '0.1', placeholder: 'default' }),
    maxTokens: h('input', { type: 'number', id: 'pg-max-tokens', min: '1', step: '1', placeholder: 'default' }),
    stream: h('input', { type: 'checkbox', id: 'pg-stream', checked: true }),
    user: h('textarea', { id: 'pg-user', rows: '3', placeholder: 'Ask something (Ctrl+Enter sends)', required: true }),
  };
  const model2Field = field('Second model', form.model2);
  model2Field.hidden = true;
  const lanesEl = h('div', { class: 'lanes' });
  let lanes = [];
  const resetLanes = () => {
    lanes = [new Lane(() => form.model.value)];
    if (form.compare.checked) lanes.push(new Lane(() => form.model2.value));
    replace(lanesEl, lanes.map((l) => l.el));
    lanesEl.classList.toggle('compare', lanes.length > 1);
  };
  form.compare.addEventListener('change', () => { model2Field.hidden = !form.compare.checked; resetLanes(); });
  form.model.addEventListener('change', () => lanes.forEach((l) => l.title()));
  form.model2.addEventListener('change', () => lanes.forEach((l) => l.title()));

  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const send = h('button', { type: 'submit', id: 'pg-send' }, 'Send');
  // Stop aborts the answers in flight; the gateway then cancels the upstream call.
  let inFlight = null;
  const stop = h('button', { type: 'button', class: 'secondary', id: 'pg-stop', hidden: true, onclick: () => inFlight && inFlight.abort() }, 'Stop');
  const options = () => ({
    system: form.system.value.trim(),
    temperature: form.temperature.value === '' ? undefined : Number(form.temperature.value),
    maxTokens: form.maxTokens.value === '' ? undefined : Number(form.maxTokens.value),
    stream: form.stream.checked,
  });
  const draft = () => lanes[0].body(form.user.value, options());
  const composer = h('form', { class: 'composer', id: 'pg-form' },
    field('Message', form.user),
    h('div', { class: 'row' }, send, stop,
      h('button', { type: 'button', class: 'secondary', onclick: () => { resetLanes(); status.textContent = 'New conversation.'; } }, 'New chat'),
      h('span', { class: 'spacer' }),
      h('span', { class: 'label' }, 'Copy as'),
      copyButton('curl', () => snippets.curl(draft())),
      copyButton('Python', () => snippets.python(draft())),
      copyButton('TypeScript', () => snippets.typescript(draft()))));
  composer.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = form.user.value.trim();
    if (!text) { form.user.focus(); return; }
    send.disabled = true;
    stop.hidden = false;
    status.textContent = 'Waiting for the answer…';
    form.user.value = '';
    inFlight = new AbortController();
    await Promise.all(lanes.map((l) => l.send(text, options(), inFlight.signal)));
    inFlight = null;
    stop.hidden = true;
    send.disabled = false;
    status.textContent = 'Done.';
    form.user.focus();
  });
  form.user.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); composer.requestSubmit(); }
  });

  append(root,
    h('h1', null, 'Playground'),
    h('div', { class: 'playground' },
      h('fieldset', { class: 'settings' }, h('legend', null, 'Request'),
        field('Model', form.model),
        h('label', { class: 'check' }, form.compare, ' Compare with a second model'),
        model2Field,
        field('System message', form.system),
        h('div', { class: 'row' }, field('Temperature', form.temperature), field('Max tokens', form.maxTokens)),
        h('label', { class: 'check' }, form.stream, ' Stream the answer')),
      h('div', { class: 'chat' }, lanesEl, composer, status)));
  resetLanes();
}

/** One conversation with one model (two lanes when comparing). */
class Lane {
  constructor(model) {
    this.model = model;
    this.history = [];
    this.heading = h('h2', { class: 'lane-title' });
    this.log = h('ol', { class: 'transcript', 'aria-live': 'polite', 'aria-label': 'Conversation' });
    this.el = h('section', { class: 'lane' }, this.heading, this.log);
    this.title();
  }

  title() {
    this.heading.textContent = this.model();
  }

  /** The chat request for the history plus `text`. */
  body(text, o) {
    const messages = [];
    if (o.system) messages.push({ role: 'system', content: o.system });
    messages.push(...this.history);
    if (text && text.trim()) messages.push({ role: 'user', content: text.trim() });
    const body = { model: this.model(), messages };
    if (o.temperature !== undefined && !Number.isNaN(o.temperature)) body.temperature = o.temperature;
    if (o.maxTokens !== undefined && !Number.isNaN(o.maxTokens)) body.max_tokens = o.maxTokens;
    if (o.stream) {
      body.stream = true;
      body.stream_options = { include_usage: true };
    }
    return body;
  }

  async send(text, o, signal) {
    const body = this.body(text, o);
    this.log.append(h('li', { class: 'msg user' }, h('span', { class: 'who' }, 'You'), h('div', { class: 'content' }, text)));
    const content = h('div', { class: 'content markdown' });
    const meta = h('dl', { class: 'meta' });
    const item = h('li', { class: 'msg assistant busy', 'aria-busy': 'true' }, h('span', { class: 'who' }, body.model), content, meta);
    this.log.append(item);
    item.scrollIntoView({ block: 'nearest' });
    const m = { model: body.model };
    const started = performance.now();
    let answer = '';
    try {
      const resp = await gatewayRaw('/v1/chat/completions', { json: body, signal });
      m.provider = resp.headers.get('x-gateway-provider');
      m.deployment = resp.headers.get('x-gateway-model');
      m.attempts = resp.headers.get('x-gateway-attempts');
      m.cache = resp.headers.get('x-gateway-cache');
      m.cost = resp.headers.get('x-gateway-cost-usd');
      if (!resp.ok) {
        let err = null;
        try { err = await resp.json(); } catch { /* not JSON */ }
        throw new ApiError(resp.status, err);
      }
      if (body.stream) {
        await readEvents(resp, (event) => {
          const delta = event.choices && event.choices[0] && event.choices[0].delta;
          if (delta && delta.content) {
            if (m.ttft === undefined) m.ttft = performance.now() - started;
            answer += delta.content;
            replace(content, renderMarkdown(answer));
          }
          if (event.usage) m.usage = event.usage;
          // A stream's cost comes with its usage, in the last chunk (headers go out first).
          if (typeof event.x_gateway_cost_usd === 'string') m.cost = event.x_gateway_cost_usd;
        });
      } else {
        const data = await resp.json();
        m.ttft = performance.now() - started;
        const msg = data.choices && data.choices[0] && data.choices[0].message;
        answer = (msg && msg.content) || '';
        m.usage = data.usage;
        replace(content, renderMarkdown(answer));
      }
      m.total = performance.now() - started;
      m.done = true;
      this.history.push({ role: 'user', content: text }, { role: 'assistant', content: answer });
    } catch (e) {
      m.total = performance.now() - started;
      if (e.name === 'AbortError') {
        // Stopped by the user: what arrived stays, as part of the conversation.
        append(content, h('p', { class: 'muted' }, '(stopped)'));
        if (answer) this.history.push({ role: 'user', content: text }, { role: 'assistant', content: answer });
      } else {
        item.classList.add('failed');
        const blocked = e.code === 'content_policy_violation';
        append(content, h('div', { class: blocked ? 'blocked' : 'failure', role: 'alert' },
          h('strong', null, blocked ? 'Blocked by a guardrail' : `Error ${e.status || ''}`.trim()), ': ', e.message));
        m.error = e;
      }
    }
    item.classList.remove('busy');
    item.removeAttribute('aria-busy');
    replace(meta, metrics(m));
    // The guardrail verdicts of this tenant on the prompt and the answer, for the findings line.
    const findings = await guardrailFindings(text, answer);
    append(meta, h('dt', null, 'Guardrails'), h('dd', { class: 'findings' }, findings));
  }
}

function metrics(m) {
  const u = m.usage || {};
  const pairs = [
    ['Time to first token', m.ttft === undefined ? '—' : fmt.ms(m.ttft)],
    ['Total time', fmt.ms(m.total)],
    ['Tokens in / out', `${fmt.int(u.prompt_tokens)} / ${fmt.int(u.completion_tokens)}`],
    // The gateway's decimal text as it is: a cost of a few tokens has more places than $0.0001.
    ['Cost', m.cost ? `$${m.cost}` : (m.done ? 'unpriced' : '—')],
    ['Provider', m.provider || '—'],
    ['Deployment', m.deployment || '—'],
    ['Attempts', m.attempts || '—'],
    ['Cache', m.cache || 'off'],
  ];
  return pairs.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]);
}

async function guardrailFindings(prompt, answer) {
  const checks = [['prompt', prompt, 'input']];
  if (answer) checks.push(['answer', answer, 'output']);
  const parts = [];
  for (const [what, text, direction] of checks) {
    try {
      const v = await gateway('/v1/guardrails/check', { json: { text, direction } });
      for (const f of v.findings) {
        parts.push(h('span', { class: `finding ${f.action}` }, `${what}: ${f.guardrail} / ${f.rule} (${f.action})`));
      }
    } catch (e) {
      parts.push(h('span', { class: 'finding' }, `${what}: not checked (${e.message})`));
    }
  }
  return parts.length ? parts : 'none';
}
