/**
 * Notice and report templates (data: src/rules/templates/<name>.<locale>.md and .html). The Markdown file
 * may start with a header block holding the subject line:
 *
 *     ---
 *     subject: [{{severity.levelUpper}}] Exposed {{service.product}} …
 *     ---
 *
 * A locale without its own files falls back to its language (`zh` for `zh-TW`), then to English.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../../core/errors.js';
import { dataPath } from './data-file.js';
import { compileTemplate, renderTemplate, type CompiledTemplate } from './template-engine.js';

export type TemplateName = 'notice' | 'report';

export interface TemplateSet {
  locale: string;
  subject: CompiledTemplate | undefined;
  text: CompiledTemplate;
  html: CompiledTemplate;
}

export function builtinTemplateDir(): string {
  return dataPath('../../rules/templates/', import.meta.url);
}

/** Locales with both files of `name` in `dir`. */
export function availableLocales(name: TemplateName, dir = builtinTemplateDir()): string[] {
  const found = new Set<string>();
  for (const f of readdirSync(dir)) {
    const m = new RegExp(`^${name}\\.([A-Za-z0-9-]+)\\.md$`).exec(f);
    if (m && existsSync(path.join(dir, `${name}.${m[1]}.html`))) found.add(m[1] as string);
  }
  return [...found].sort();
}

/** The locale actually used for `wanted`: itself, its language, or `en`. */
export function resolveLocale(name: TemplateName, wanted: string, dir = builtinTemplateDir()): string {
  const have = availableLocales(name, dir);
  if (have.includes(wanted)) return wanted;
  const lang = wanted.split('-')[0] as string;
  const sameLang = have.find((l) => l === lang || l.startsWith(`${lang}-`));
  if (sameLang) return sameLang;
  if (have.includes('en')) return 'en';
  throw new UsageError(`No ${name} templates for ${wanted} or English in ${dir}`);
}

const cache = new Map<string, TemplateSet>();

export function loadTemplates(name: TemplateName, wanted: string, dir = builtinTemplateDir()): TemplateSet {
  const locale = resolveLocale(name, wanted, dir);
  const key = `${dir}\u0000${name}\u0000${locale}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const mdFile = `${name}.${locale}.md`;
  const htmlFile = `${name}.${locale}.html`;
  const { header, body } = splitHeader(readFileSync(path.join(dir, mdFile), 'utf8'));
  const set: TemplateSet = {
    locale,
    subject: header.subject ? compileTemplate(`${mdFile} (subject)`, header.subject) : undefined,
    text: compileTemplate(mdFile, body),
    html: compileTemplate(htmlFile, readFileSync(path.join(dir, htmlFile), 'utf8')),
  };
  cache.set(key, set);
  return set;
}

/** `---` / `key: value` lines / `---` at the very top; values are template text, not YAML. */
export function splitHeader(source: string): { header: Record<string, string>; body: string } {
  const m = /^---\r?\n([\s\S]*?)\r?\n---\r?\n/.exec(source);
  if (!m) return { header: {}, body: source };
  const header: Record<string, string> = {};
  for (const line of (m[1] as string).split(/\r?\n/)) {
    const kv = /^([A-Za-z][\w-]*):\s?(.*)$/.exec(line);
    if (kv) header[kv[1] as string] = (kv[2] as string).trim();
  }
  // Keep the line count of the body in step with the file for error messages: replace the header by blank lines.
  const blank = '\n'.repeat((m[0].match(/\n/g) ?? []).length);
  return { header, body: blank + source.slice(m[0].length) };
}

export interface RenderedDocument {
  locale: string;
  subject: string;
  text: string;
  html: string;
}

/** Render both variants (and the subject: one line, whitespace collapsed, so no value can add a mail header). */
export function renderDocument(name: TemplateName, wanted: string, data: Record<string, unknown>, dir?: string): RenderedDocument {
  const t = loadTemplates(name, wanted, dir);
  const subject = t.subject ? renderTemplate(t.subject, data, 'text').replace(/\s+/g, ' ').trim().slice(0, 250) : '';
  return {
    locale: t.locale,
    subject,
    text: tidy(renderTemplate(t.text, data, 'text')),
    html: renderTemplate(t.html, data, 'html'),
  };
}

/** No runs of blank lines and no leading blank lines (left by conditionals). */
function tidy(text: string): string {
  return text.replace(/^\s*\n/, '').replace(/\n{3,}/g, '\n\n');
}
