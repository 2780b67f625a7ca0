/**
 * {@link GatewayClient}: the gateway's own APIs, with one credential sent as
 * `Authorization: Bearer` (the admin token or an API key whose roles allow the calls made).
 */

import { type InferenceOptions, type OpenAIConfig, type AnthropicConfig, gatewayAnthropicConfig, gatewayFetch, gatewayOpenAIConfig } from "./inference.js";
import { gatewayMetadata } from "./metadata.js";
import { AsyncCalls } from "./resources/async-calls.js";
import { Audit } from "./resources/audit.js";
import { Cache } from "./resources/cache.js";
import { Console } from "./resources/console.js";
import { Anomalies } from "./resources/anomalies.js";
import { Backups } from "./resources/backups.js";
import { Prompts, Templates } from "./resources/templates.js";
import { Deployments } from "./resources/deployments.js";
import { Encryption } from "./resources/encryption.js";
import { Feedback } from "./resources/feedback.js";
import { Guardrails } from "./resources/guardrails.js";
import { Keys } from "./resources/keys.js";
import { Models } from "./resources/models.js";
import { Tenants } from "./resources/tenants.js";
import { Usage } from "./resources/usage.js";
import { Webhooks } from "./resources/webhooks.js";
import { type ClientOptions, type RequestOptions, Transport } from "./transport.js";
import type { QueryResult } from "./types.js";

type Status = Record<string, unknown>;
const status = (data: unknown): Status => (data && typeof data === "object" ? (data as Status) : {});

export class GatewayClient {
  readonly tenants: Tenants;
  readonly keys: Keys;
  readonly usage: Usage;
  readonly feedback: Feedback;
  readonly audit: Audit;
  readonly deployments: Deployments;
  readonly cache: Cache;
  readonly guardrails: Guardrails;
  readonly models: Models;
  readonly webhooks: Webhooks;
  readonly backups: Backups;
  readonly encryption: Encryption;
  readonly templates: Templates;
  readonly prompts: Prompts;
  readonly anomalies: Anomalies;
  readonly asyncCalls: AsyncCalls;
  readonly console: Console;
  private readonly transport: Transport;

  constructor(options: ClientOptions = {}) {
    const transport = new Transport(options);
    this.transport = transport;
    this.tenants = new Tenants(transport);
    this.keys = new Keys(transport);
    this.usage = new Usage(transport);
    this.feedback = new Feedback(transport);
    this.audit = new Audit(transport);
    this.deployments = new Deployments(transport);
    this.cache = new Cache(transport);
    this.guardrails = new Guardrails(transport);
    this.models = new Models(transport);
    this.webhooks = new Webhooks(transport);
    this.backups = new Backups(transport);
    this.encryption = new Encryption(transport);
    this.templates = new Templates(transport);
    this.prompts = new Prompts(transport);
    this.anomalies = new Anomalies(transport);
    this.asyncCalls = new AsyncCalls(transport);
    this.console = new Console(transport);
  }

  get baseURL(): string {
    return this.transport.baseURL;
  }

  /** `POST /query`: the simple API; the result carries the cost estimate and the metadata. */
  query(prompt: string, params: { max_tokens?: number; temperature?: number } = {}, options?: RequestOptions): Promise<QueryResult> {
    return this.transport.send(
      {
        method: "POST",
        path: "/query",
        body: { prompt, ...params },
        parse: (data, meta) => {
          const result = status(data) as unknown as QueryResult;
          const cost = typeof result.cost_estimate_usd === "number" ? result.cost_estimate_usd : undefined;
          return { ...result, metadata: gatewayMetadata(meta.headers, cost) };
        },
      },
      options,
    );
  }

  /** `GET /health` (liveness). */
  health(options?: RequestOptions): Promise<Status> {
    return this.transport.send({ method: "GET", path: "/health", parse: status }, options);
  }

  /** `GET /ready`: throws `ServiceUnavailableError` (503) when not ready. */
  ready(options?: RequestOptions): Promise<Status> {
    return this.transport.send({ method: "GET", path: "/ready", parse: status }, options);
  }

  /** Options for `new OpenAI(...)`: this gateway, this client's key unless `apiKey` is given. */
  openAIConfig(o: Partial<InferenceOptions> = {}): OpenAIConfig {
    return gatewayOpenAIConfig({ baseURL: this.baseURL, apiKey: this.transport.apiKey, ...o });
  }

  /** Options for `new Anthropic(...)` (`@anthropic-ai/sdk`). */
  anthropicConfig(o: Partial<InferenceOptions> = {}): AnthropicConfig {
    return gatewayAnthropicConfig({ baseURL: this.baseURL, apiKey: this.transport.apiKey, ...o });
  }

  /** A `fetch` bound to this gateway and key: `await f("/v1/models")`. */
  fetch(o: Omit<Parameters<typeof gatewayFetch>[0] & object, "baseURL"> = {}): typeof fetch {
    return gatewayFetch({ baseURL: this.baseURL, apiKey: this.transport.apiKey, ...o });
  }
}
