/**
 * IPv4/IPv6 addresses (node:net `isIP`), a weak personal-data signal (client IPs). Unspecified and
 * loopback addresses are not counted; neither are values in identifier fields (`version: 1.2.3.4`).
 */
import { isIP } from 'node:net';
import { maskMiddle, redactedLabel } from '../mask.js';
import { fieldSaysOtherwise, type Detector, type HintProvider } from './types.js';

const NOT_PERSONAL = new Set(['0.0.0.0', '127.0.0.1', '::', '::1', '255.255.255.255']);

export function createIpAddressDetector(hints: HintProvider): Detector {
  return {
    id: 'ip_address',
    category: 'network',
    description: 'IPv4 or IPv6 address (node:net isIP), loopback and unspecified excluded',
    checksumBacked: false,
    detect(value, context) {
      const s = value.trim();
      if (s.length > 64 || isIP(s) === 0 || NOT_PERSONAL.has(s.toLowerCase())) return false;
      return !fieldSaysOtherwise(hints(context), 'network');
    },
    mask(value) {
      const s = value.trim();
      if (isIP(s) === 4) return redactedLabel(`${s.split('.')[0]}.*.*.*`);
      if (isIP(s) === 6) return redactedLabel(`${s.split(':')[0] || ''}:*:*`);
      return maskMiddle(s);
    },
  };
}
