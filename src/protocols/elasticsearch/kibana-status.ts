import { STATUS_CODES } from 'node:http';
import { AuthVerdict } from '../../core/types.js';
import { type HttpResponse } from '../../net/http.js';
import { type ProbeRun } from '../../net/probe-run.js';
import { type KibanaProduct, type KibanaStatus } from './codec.js';

/**
 * What Kibana's (or OpenSearch Dashboards') `GET /api/status` said, recorded on the result: its name, uuid
 * and overall level as `metadata.kibana`; a redacted status (security on, Kibana 8.x) is `auth_required`,
 * a full one is `open` with its version. Shared by the Kibana module and the Elasticsearch module (which
 * meets Kibana on a port it was pointed at). Returns the evidence text when the status was readable
 * without login, undefined when login is required.
 */
export function recordKibanaStatus(run: ProbeRun, res: HttpResponse, status: KibanaStatus, product: KibanaProduct): string | undefined {
  const result = run.result;
  const kibana: Record<string, unknown> = { redacted: status.redacted };
  if (status.name !== undefined) kibana.name = status.name;
  if (status.uuid !== undefined) kibana.uuid = status.uuid;
  if (status.overall !== undefined) kibana.overall = status.overall;
  result.metadata.kibana = kibana;
  if (status.redacted) {
    result.auth = AuthVerdict.authRequired;
    run.setEvidence(`GET /api/status: HTTP ${res.status}, redacted status only (overall level ${status.overall ?? '?'}): ${product} requires login`);
    return undefined;
  }
  result.auth = AuthVerdict.open;
  if (status.version !== undefined) result.version = status.version;
  const lines = [`GET /api/status answered without credentials: HTTP ${res.status} ${STATUS_CODES[res.status] ?? ''}`.trimEnd()];
  if (status.name !== undefined) lines.push(`name: ${status.name}`);
  if (status.version !== undefined) lines.push(`version.number: ${status.version}`);
  if (status.overall !== undefined) lines.push(`status.overall: ${status.overall}`);
  const evidence = lines.join('\n');
  run.setEvidence(evidence);
  return evidence;
}
