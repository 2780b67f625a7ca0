// "Copy as" snippets for the playground's current request: curl, Python (the openai SDK)
// and TypeScript (the openai package). The key is never put in a snippet: each reads it from
// the GATEWAY_API_KEY environment variable.

function baseUrl() {
  return `${window.location.origin}/v1`;
}

/** Shell single-quoting. */
function shellQuote(text) {
  return `'${text.replace(/'/g, "'\\''")}'`;
}

export function curl(body) {
  return [
    `curl ${shellQuote(`${baseUrl()}/chat/completions`)} \\`,
    '  -H "Authorization: Bearer $GATEWAY_API_KEY" \\',
    "  -H 'Content-Type: application/json' \\",
    `  -d ${shellQuote(JSON.stringify(body, null, 2))}${body.stream ? ' \\\n  --no-buffer' : ''}`,
  ].join('\n');
}

/** A Python literal of a JSON value (strings as JSON strings, which Python reads alike). */
function pyValue(v, indent) {
  const inner = `${indent}    `;
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number' || typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    return `[\n${v.map((x) => inner + pyValue(x, inner)).join(',\n')},\n${indent}]`;
  }
  const entries = Object.entries(v);
  if (!entries.length) return '{}';
  return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${pyValue(x, inner)}`).join(',\n')},\n${indent}}`;
}

export function python(body) {
  const { model, messages, stream, ...rest } = body;
  const args = [`    model=${JSON.stringify(model)},`, `    messages=${pyValue(messages, '    ')},`];
  for (const [k, v] of Object.entries(rest)) if (k !== 'stream_options') args.push(`    ${k}=${pyValue(v, '    ')},`);
  if (stream) args.push('    stream=True,');
  const lines = [
    'import os',
    'from openai import OpenAI',
    '',
    `client = OpenAI(base_url=${JSON.stringify(baseUrl())}, api_key=os.environ["GATEWAY_API_KEY"])`,
    '',
    `${stream ? 'stream' : 'response'} = client.chat.completions.create(`,
    ...args,
    ')',
  ];
  if (stream) {
    lines.push('for chunk in stream:', '    if chunk.choices and chunk.choices[0].delta.content:',
      '        print(chunk.choices[0].delta.content, end="", flush=True)', 'print()');
  } else {
    lines.push('print(response.choices[0].message.content)');
  }
  return lines.join('\n');
}

export function typescript(body) {
  const { stream_options: _ignored, ...request } = body;
  const lines = [
    "import OpenAI from 'openai';",
    '',
    `const client = new OpenAI({ baseURL: ${JSON.stringify(baseUrl())}, apiKey: process.env.GATEWAY_API_KEY });`,
    '',
    `const ${body.stream ? 'stream' : 'response'} = await client.chat.completions.create(${JSON.stringify(request, null, 2)});`,
  ];
  if (body.stream) {
    lines.push('for await (const chunk of stream) {', "  process.stdout.write(chunk.choices[0]?.delta?.content ?? '');", '}');
  } else {
    lines.push('console.log(response.choices[0].message.content);');
  }
  return lines.join('\n');
}
