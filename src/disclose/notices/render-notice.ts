import { type CaseRecord } from '../cases/types.js';
import { buildNoticeModel, type Sender } from './notice-model.js';
import { type Remediations } from './remediation.js';
import { renderDocument, resolveLocale, type RenderedDocument } from './templates.js';

export interface NoticeOptions {
  locale?: string;
  sender: Sender;
  remediations?: Remediations;
  /** A directory with notice.<locale>.md/.html to use instead of the built-in templates. */
  templateDir?: string;
}

/** The notice for a case: subject, plain text (Markdown) and HTML, in the case's language unless told otherwise. */
export function renderNotice(c: Pick<CaseRecord, 'id' | 'state' | 'openedAt' | 'snapshot' | 'locale'>, opts: NoticeOptions): RenderedDocument {
  // The language the templates have (zh-TW → zh-CN, unknown → en), so the fix texts match the template's.
  const locale = resolveLocale('notice', opts.locale ?? c.locale, opts.templateDir);
  const model = buildNoticeModel({ caseRecord: c, locale, sender: opts.sender, ...(opts.remediations ? { remediations: opts.remediations } : {}) });
  return renderDocument('notice', locale, model, opts.templateDir);
}
