// Rows of the Node `openai` SDK, run by rows_node.py: `node openai_compat.cjs TEST MODEL`
// prints one JSON object on stdout (what the row checks). The SDK comes from the npm cache
// that `cargo xtask test` fills (NODE_PATH), never from the clone.
'use strict';

const OpenAI = require('openai');

async function main() {
  const [test, model] = process.argv.slice(2);
  const client = new OpenAI({
    baseURL: `${process.env.GATEWAY_URL}/v1`,
    apiKey: process.env.GATEWAY_KEY,
    maxRetries: 0,
    timeout: 30000,
  });
  const messages = [{ role: 'user', content: 'Hello from Node' }];
  switch (test) {
    case 'chat': {
      const resp = await client.chat.completions.create({ model, messages });
      let streamed = '';
      const finishes = [];
      const stream = await client.chat.completions.create({ model, messages, stream: true });
      for await (const chunk of stream) {
        const choice = chunk.choices[0];
        if (choice) {
          streamed += choice.delta.content || '';
          if (choice.finish_reason) finishes.push(choice.finish_reason);
        }
      }
      return { text: resp.choices[0].message.content, finish: resp.choices[0].finish_reason, streamed, finishes };
    }
    case 'embeddings': {
      // The SDK asks for base64 by default and decodes it into floats.
      const byDefault = await client.embeddings.create({ model, input: ['a cat', 'a dog'] });
      const floats = await client.embeddings.create({ model, input: ['a cat', 'a dog'], encoding_format: 'float' });
      return { byDefault: byDefault.data.map((d) => d.embedding), floats: floats.data.map((d) => d.embedding) };
    }
    case 'overloaded': {
      try {
        await client.chat.completions.create({ model, messages });
        return { status: 200 };
      } catch (err) {
        return { status: err.status, name: err.constructor.name };
      }
    }
    default:
      throw new Error(`unknown test ${test}`);
  }
}

main().then(
  (out) => process.stdout.write(JSON.stringify(out)),
  (err) => {
    process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  },
);
