/**
 * A tiny, safe template engine for notices and reports (templates are data: src/rules/templates).
 *
 * Syntax (a small Mustache/Handlebars subset, nothing executable):
 * - `{{ path }}` prints a value (`a.b.c`; inside a loop also `@index`, `@number`, `@first`, `@last`).
 *   In `html` mode every printed value is HTML-escaped; there is no raw-output form, so a string from a
 *   scanned server can never become markup.
 * - `{{ path | code }}` and `{{ path | block }}` show a value as inline code / a code block, safely in
 *   both modes: Markdown backtick fences longer than any backtick run in the value (text mode), or
 *   `<code>`/`<pre><code>` around the escaped value (html mode). `block` also takes a list of lines.
 *   `{{ path | prose }}` is for the project's own texts: in html mode, after escaping, `…` becomes <code>…</code>.
 * - `{{#if path}} … {{else}} … {{/if}}`, `{{#unless path}} … {{/unless}}`: truthy = non-empty string or
 *   list, non-zero number, `true`, any object. A missing path is falsy in a condition.
 * - `{{#each path as name}} … {{else}} … {{/each}}`: loops over a list; the `else` part renders when it is empty.
 * - `{{! comment }}`.
 * A tag alone on its line (block tags and comments) takes its line with it, so Markdown stays tidy.
 * Printing a missing path is an error (a typo in a template must not silently drop a fix line);
 * null/undefined values that exist print as empty text. Only own properties are looked up.
 */
import { ConfigError } from '../../core/errors.js';

export type TemplateMode = 'html' | 'text';

/** A template that does not parse or does not fit its data; names the template and the line. */
export class TemplateError extends ConfigError {
  constructor(template: string, line: number, reason: string) {
    super(`Template ${template} line ${line}: ${reason}`);
  }
}

type Filter = 'code' | 'block' | 'prose';
const FILTERS: readonly Filter[] = ['code', 'block', 'prose'];

type Node =
  | { type: 'text'; text: string }
  | { type: 'var'; path: string[]; filter?: Filter; line: number }
  | { type: 'if'; path: string[]; negate: boolean; then: Node[]; else: Node[]; line: number }
  | { type: 'each'; path: string[]; name: string; body: Node[]; else: Node[]; line: number };

export interface CompiledTemplate {
  readonly name: string;
  readonly nodes: readonly Node[];
}

const TAG = /\{\{([\s\S]*?)\}\}/g;
const PATH = /^@?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

interface Token {
  kind: 'text' | 'tag';
  text: string;
  line: number;
}

/** Split into text and tags; block tags and comments alone on a line swallow that line. */
function tokenize(name: string, source: string): Token[] {
  const tokens: Token[] = [];
  let last = 0;
  let line = 1;
  const countLines = (s: string): number => s.split('\n').length - 1;
  for (const m of source.matchAll(TAG)) {
    const start = m.index;
    const before = source.slice(last, start);
    tokens.push({ kind: 'text', text: before, line });
    line += countLines(before);
    tokens.push({ kind: 'tag', text: (m[1] ?? '').trim(), line });
    line += countLines(m[0]);
    last = start + m[0].length;
  }
  const rest = source.slice(last);
  if (rest.includes('{{') || rest.includes('}}')) {
    const at = line + countLines(rest.slice(0, Math.max(rest.indexOf('{{'), rest.indexOf('}}'))));
    throw new TemplateError(name, at, 'unbalanced {{ or }}');
  }
  tokens.push({ kind: 'text', text: rest, line });
  // Text tokens that begin at the start of a line: the first one, and those a standalone tag cut after a newline.
  const startsLine = new Set<number>([0]);
  for (let i = 1; i < tokens.length - 1; i += 2) {
    const tag = tokens[i] as Token;
    if (!/^[#/!]|^else$/.test(tag.text)) continue;
    const prev = tokens[i - 1] as Token;
    const next = tokens[i + 1] as Token;
    const lineStart = prev.text.lastIndexOf('\n');
    const lead = prev.text.slice(lineStart + 1);
    const atLineStart = lineStart >= 0 || startsLine.has(i - 1);
    const nl = next.text.indexOf('\n');
    const trail = nl >= 0 ? next.text.slice(0, nl) : next.text;
    const atLineEnd = nl >= 0 || i + 1 === tokens.length - 1;
    if (atLineStart && /^[ \t]*$/.test(lead) && /^[ \t\r]*$/.test(trail) && atLineEnd) {
      prev.text = prev.text.slice(0, lineStart + 1);
      next.text = nl >= 0 ? next.text.slice(nl + 1) : '';
      startsLine.add(i + 1);
    }
  }
  return tokens;
}

function parsePath(name: string, line: number, text: string): string[] {
  if (!PATH.test(text)) throw new TemplateError(name, line, `${JSON.stringify(text)} is not a variable path`);
  const path = text.split('.');
  for (const p of path) if (FORBIDDEN_KEYS.has(p)) throw new TemplateError(name, line, `${JSON.stringify(p)} may not be used in a path`);
  return path;
}

/** Parse a template once; reuse the result for every render. */
export function compileTemplate(name: string, source: string): CompiledTemplate {
  const tokens = tokenize(name, source);
  let pos = 0;
  // Parses until one of `stops` (e.g. `else`, `/if`) and returns which one ended the part.
  const parse = (stops: string[], opener?: { what: string; line: number }): { nodes: Node[]; stop: string } => {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const t = tokens[pos++] as Token;
      if (t.kind === 'text') {
        if (t.text) nodes.push({ type: 'text', text: t.text });
        continue;
      }
      const tag = t.text;
      if (stops.includes(tag)) return { nodes, stop: tag };
      if (tag.startsWith('!')) continue;
      let m: RegExpMatchArray | null;
      if ((m = /^#(if|unless)\s+(\S+)$/.exec(tag))) {
        const kind = m[1] as 'if' | 'unless';
        const path = parsePath(name, t.line, m[2] as string);
        const first = parse(['else', `/${kind}`], { what: `{{#${kind}}}`, line: t.line });
        const second = first.stop === 'else' ? parse([`/${kind}`], { what: `{{#${kind}}}`, line: t.line }).nodes : [];
        nodes.push({ type: 'if', path, negate: kind === 'unless', then: first.nodes, else: second, line: t.line });
      } else if ((m = /^#each\s+(\S+)\s+as\s+(\S+)$/.exec(tag))) {
        const path = parsePath(name, t.line, m[1] as string);
        const loopName = m[2] as string;
        if (!NAME.test(loopName) || FORBIDDEN_KEYS.has(loopName)) throw new TemplateError(name, t.line, `${JSON.stringify(loopName)} is not a loop variable name`);
        const first = parse(['else', '/each'], { what: '{{#each}}', line: t.line });
        const second = first.stop === 'else' ? parse(['/each'], { what: '{{#each}}', line: t.line }).nodes : [];
        nodes.push({ type: 'each', path, name: loopName, body: first.nodes, else: second, line: t.line });
      } else if (tag.startsWith('#') || tag.startsWith('/') || tag === 'else') {
        throw new TemplateError(name, t.line, `unexpected {{${tag}}}`);
      } else {
        const [expr, filter, ...more] = tag.split('|').map((s) => s.trim());
        if (more.length > 0) throw new TemplateError(name, t.line, 'only one filter per value');
        if (filter !== undefined && !(FILTERS as readonly string[]).includes(filter)) {
          throw new TemplateError(name, t.line, `unknown filter ${JSON.stringify(filter)} (known: ${FILTERS.join(', ')})`);
        }
        nodes.push({ type: 'var', path: parsePath(name, t.line, expr ?? ''), ...(filter ? { filter: filter as Filter } : {}), line: t.line });
      }
    }
    if (opener) throw new TemplateError(name, opener.line, `${opener.what} is never closed`);
    return { nodes, stop: '' };
  };
  const { nodes } = parse([]);
  return { name, nodes };
}

const MISSING = Symbol('missing');

function own(obj: unknown, key: string): unknown {
  if (typeof obj !== 'object' || obj === null) return MISSING;
  return Object.prototype.hasOwnProperty.call(obj, key) ? (obj as Record<string, unknown>)[key] : MISSING;
}

function lookup(scopes: readonly Record<string, unknown>[], path: readonly string[]): unknown {
  const [head, ...rest] = path as [string, ...string[]];
  let value: unknown = MISSING;
  for (let i = scopes.length - 1; i >= 0; i--) {
    value = own(scopes[i], head);
    if (value !== MISSING) break;
  }
  for (const key of rest) {
    if (value === MISSING || value === null || value === undefined) return MISSING;
    value = own(value, key);
  }
  return value;
}

function truthy(v: unknown): boolean {
  if (v === MISSING || v === null || v === undefined || v === false) return false;
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** A backtick fence longer than any run of backticks in `s` (so the value cannot close it). */
function fence(s: string, min: number): string {
  let longest = 0;
  for (const m of s.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  return '`'.repeat(Math.max(min, longest + 1));
}

function scalar(name: string, line: number, path: readonly string[], v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  throw new TemplateError(name, line, `${path.join('.')} is ${Array.isArray(v) ? 'a list' : 'an object'}; print one of its fields or loop over it`);
}

function applyFilter(filter: Filter, text: string, mode: TemplateMode): string {
  if (filter === 'prose') {
    // Our own data texts mark code with backticks; in HTML they become <code> after escaping.
    return mode === 'html' ? escapeHtml(text).replace(/`([^`\n]+)`/g, '<code>$1</code>') : text;
  }
  if (filter === 'code') {
    const one = text.replace(/[\r\n]+/g, ' ');
    if (mode === 'html') return `<code>${escapeHtml(one)}</code>`;
    const f = fence(one, 1);
    // A space inside the fence when the value starts or ends with a backtick (CommonMark strips one).
    const pad = one.startsWith('`') || one.endsWith('`') ? ' ' : '';
    return `${f}${pad}${one}${pad}${f}`;
  }
  if (mode === 'html') return `<pre><code>${escapeHtml(text)}</code></pre>`;
  const f = fence(text, 3);
  return `${f}\n${text}\n${f}`;
}

/** Render a compiled template. `html` escapes every printed value; `text` prints values as they are. */
export function renderTemplate(template: CompiledTemplate, data: Record<string, unknown>, mode: TemplateMode): string {
  const out: string[] = [];
  const walk = (nodes: readonly Node[], scopes: Record<string, unknown>[]): void => {
    for (const node of nodes) {
      switch (node.type) {
        case 'text':
          out.push(node.text);
          break;
        case 'var': {
          const v = lookup(scopes, node.path);
          if (v === MISSING) throw new TemplateError(template.name, node.line, `no value named ${node.path.join('.')}`);
          if (node.filter === 'block' && Array.isArray(v)) {
            const lines = v.map((x) => scalar(template.name, node.line, node.path, x));
            out.push(applyFilter('block', lines.join('\n'), mode));
            break;
          }
          const text = scalar(template.name, node.line, node.path, v);
          if (node.filter) out.push(applyFilter(node.filter, text, mode));
          else out.push(mode === 'html' ? escapeHtml(text) : text);
          break;
        }
        case 'if': {
          const v = lookup(scopes, node.path);
          walk(truthy(v) !== node.negate ? node.then : node.else, scopes);
          break;
        }
        case 'each': {
          const v = lookup(scopes, node.path);
          if (v === MISSING || v === null || v === undefined) {
            walk(node.else, scopes);
            break;
          }
          if (!Array.isArray(v)) throw new TemplateError(template.name, node.line, `${node.path.join('.')} is not a list`);
          if (v.length === 0) walk(node.else, scopes);
          v.forEach((item, i) => {
            walk(node.body, [
              ...scopes,
              { [node.name]: item, '@index': i, '@number': i + 1, '@first': i === 0, '@last': i === v.length - 1 },
            ]);
          });
          break;
        }
      }
    }
  };
  walk(template.nodes, [data]);
  return out.join('');
}

/** Compile and render in one go (for short strings such as remediation lines). */
export function renderString(name: string, source: string, data: Record<string, unknown>, mode: TemplateMode): string {
  return renderTemplate(compileTemplate(name, source), data, mode);
}
