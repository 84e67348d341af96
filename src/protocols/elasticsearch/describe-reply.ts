import { STATUS_CODES } from 'node:http';
import { type HttpResponse } from '../../net/http.js';
import { printable } from '../../net/probe-run.js';
import { parseErrorBody, type ErrorInfo } from './codec.js';

/**
 * A non-2xx reply of Elasticsearch, OpenSearch or Kibana as evidence: `GET /: HTTP 401 Unauthorized`,
 * the challenge, the redirect, then the error's `type: reason` or the body's text.
 */
export function describeReply(command: string, res: HttpResponse, error: ErrorInfo = parseErrorBody(res.body)): string {
  const lines = [`${command}: HTTP ${res.status} ${STATUS_CODES[res.status] ?? ''}`.trimEnd()];
  const challenge = res.headers['www-authenticate'];
  if (challenge !== undefined) lines.push(`WWW-Authenticate: ${challenge}`);
  if (res.headers.location !== undefined) lines.push(`Location: ${res.headers.location}`);
  const text = describeError(error);
  if (text !== '') lines.push(text);
  return lines.join('\n');
}

/** An error body as `type: reason`, or its text when it has neither. */
export function describeError(error: ErrorInfo): string {
  if (error.type !== undefined || error.reason !== undefined) return [error.type, error.reason].filter((s) => s !== undefined).join(': ');
  return error.text !== undefined ? printable(error.text, 256) : '';
}
