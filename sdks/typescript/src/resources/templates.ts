/** `/admin/v1/templates` and `/admin/v1/prompts/lint`: a tenant's versioned prompt templates
 * (docs/templates.md) — create (or add a version), list, get (latest with its history, or one
 * version), delete, render as a dry run — with the read-only built-in ones (`builtin.*`), and
 * the prompt linter. */

import { type RequestOptions, body, segment } from "../transport.js";
import { Resource, many, one } from "./base.js";

/** One message of a template: a role and a MiniJinja source. */
export interface TemplateMessage {
  role: "system" | "developer" | "user" | "assistant";
  content: string;
}

/** A declared variable. */
export interface TemplateVariable {
  name: string;
  description?: string;
  required?: boolean;
}

/** One version in a template's history. */
export interface TemplateVersion {
  version: number;
  description: string;
  created_at: string;
  created_by: string;
}

/** A prompt template at one version. */
export interface PromptTemplate {
  object: "prompt_template";
  id: string;
  tenant: string | null;
  version: number;
  description: string;
  messages?: TemplateMessage[];
  prompt?: string;
  variables: TemplateVariable[];
  builtin: boolean;
  created_at: string | null;
  created_by: string | null;
  /** `get` only: every version, oldest first. */
  versions?: TemplateVersion[];
}

export interface CreateTemplateParams {
  id: string;
  tenant?: string;
  description?: string;
  messages?: TemplateMessage[];
  prompt?: string;
  variables?: TemplateVariable[];
}

/** What a dry run renders. */
export interface RenderedTemplate {
  object: "prompt_template.render";
  id: string;
  version: number;
  messages: { role: string; content: string }[];
}

export interface TemplateDeleted {
  object: "prompt_template";
  id: string;
  versions: number;
  deleted: boolean;
}

export interface LintParams {
  messages?: { role: string; content: unknown }[];
  prompt?: string;
  variables?: TemplateVariable[];
  max_tokens?: number;
  response_format?: unknown;
}

/** One finding of the linter. */
export interface LintFinding {
  rule: string;
  severity: "error" | "warning" | "info";
  message: string;
  location: { part: string; line: number; column: number };
  suggestion: string;
}

export interface LintReport {
  object: "prompt_lint";
  findings: LintFinding[];
  summary: { errors: number; warnings: number; info: number };
}

const PATH = "/admin/v1/templates";
const path = (id: string, rest = ""): string => `${PATH}/${segment(id, "template id")}${rest}`;

export class Templates extends Resource {
  /** Create template `id` (version 1), or its next version; the same definition again answers
   * the stored version. */
  create(params: CreateTemplateParams, options?: RequestOptions): Promise<PromptTemplate> {
    if ((params.messages === undefined) === (params.prompt === undefined)) {
      throw new TypeError("give either messages or prompt");
    }
    return this.send({ method: "POST", path: PATH, body: body({ ...params }), parse: one<PromptTemplate>() }, options);
  }

  /** The latest version of each template, then the built-in ones. */
  list(params: { tenant?: string } = {}, options?: RequestOptions): Promise<PromptTemplate[]> {
    return this.send({ method: "GET", path: PATH, query: { tenant: params.tenant }, parse: many<PromptTemplate>() }, options);
  }

  /** The latest version, with `versions` (the history). */
  get(id: string, params: { tenant?: string } = {}, options?: RequestOptions): Promise<PromptTemplate> {
    return this.send({ method: "GET", path: path(id), query: { tenant: params.tenant }, parse: one<PromptTemplate>() }, options);
  }

  getVersion(id: string, version: number, params: { tenant?: string } = {}, options?: RequestOptions): Promise<PromptTemplate> {
    const rest = `/versions/${Math.trunc(version)}`;
    return this.send({ method: "GET", path: path(id, rest), query: { tenant: params.tenant }, parse: one<PromptTemplate>() }, options);
  }

  /** Deletes every version. */
  delete(id: string, params: { tenant?: string } = {}, options?: RequestOptions): Promise<TemplateDeleted> {
    return this.send({ method: "DELETE", path: path(id), query: { tenant: params.tenant }, parse: one<TemplateDeleted>() }, options);
  }

  /** The messages a call naming the template would send (a dry run). */
  render(
    id: string,
    params: { variables?: Record<string, unknown>; version?: number; tenant?: string } = {},
    options?: RequestOptions,
  ): Promise<RenderedTemplate> {
    const fields = body({ variables: params.variables ?? {}, version: params.version });
    return this.send(
      { method: "POST", path: path(id, "/render"), query: { tenant: params.tenant }, body: fields, parse: one<RenderedTemplate>() },
      options,
    );
  }
}

export class Prompts extends Resource {
  /** Local findings (`rule`, `severity`, `location`, `suggestion`) on a template's or a call's
   * messages, or a plain prompt. */
  lint(params: LintParams, options?: RequestOptions): Promise<LintReport> {
    return this.send({ method: "POST", path: "/admin/v1/prompts/lint", body: body({ ...params }), parse: one<LintReport>() }, options);
  }
}
