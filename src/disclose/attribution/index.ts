/** Attribution: who owns an exposed address and how to reach them (see README.md beside this file). */
export { attribute, type AttributionDeps } from './attribute.js';
export { loadBootstrap, type Bootstrap } from './rdap-bootstrap.js';
export { SECURITY_TXT_COMMANDS } from './security-txt.js';
export {
  DEFAULT_ATTRIBUTION_CONFIG,
  SECURITY_TXT_PORTS,
  type Attribution,
  type AttributionConfig,
  type AttributionTimeouts,
  type Contact,
  type RdapEntity,
  type RdapNetwork,
  type SecurityTxt,
  type SecurityTxtPort,
} from './types.js';
