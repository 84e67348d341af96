/**
 * Attribution: who owns an exposed address and how to reach them. Plain data types only.
 *
 * Every source (reverse DNS, RDAP, the user's .mmdb files, the host's own security.txt) is optional:
 * a source that fails adds a sentence to `errors` and the rest still answers, so a case can always be
 * opened even when attribution finds nothing.
 */

/** How attribution is configured (the `attribution:` block of the config file). */
export interface AttributionConfig {
  /**
   * DNS servers for reverse lookups, as `ip` or `ip:port` (`[v6]:port`). Empty or absent: the
   * system's resolvers (/etc/resolv.conf).
   */
  dnsServers?: string[];
  /**
   * A directory holding IANA's RDAP bootstrap files `ipv4.json` and `ipv6.json`. Absent: the copies
   * shipped in src/disclose/attribution/data (see the README there for their publication dates and
   * the update command).
   */
  rdapBootstrapDir?: string;
  /** MaxMind-format databases the user provides (GeoLite2-ASN / -Country / -City or compatible). */
  mmdb: { asn?: string; country?: string; city?: string };
  timeoutsMs: AttributionTimeouts;
  /** How long a fetched answer (PTR, RDAP network, security.txt) is reused before it is fetched again. */
  cacheTtlHours: number;
}

export interface AttributionTimeouts {
  /** One reverse lookup, all tries included. */
  dns: number;
  /** One RDAP request (each redirect or referral hop gets its own). */
  rdap: number;
  /** One security.txt GET, connect included. */
  securityTxt: number;
}

export const DEFAULT_ATTRIBUTION_CONFIG: AttributionConfig = {
  mmdb: {},
  timeoutsMs: { dns: 3000, rdap: 10_000, securityTxt: 5000 },
  cacheTtlHours: 168,
};

/** What `attribute()` found out about one address. */
export interface Attribution {
  /** The address asked about, in canonical form (IPv4 dotted quad, IPv6 RFC 5952). */
  ip: string;
  /** PTR names from reverse DNS, sorted; empty when the address has none (NXDOMAIN/NODATA is not an error). */
  ptr: string[];
  rdap?: RdapNetwork;
  /** From the ASN database (`autonomous_system_number`, `autonomous_system_organization`). */
  asn?: { number: number; org?: string; network?: string };
  /** From the Country database, or the City database's `country`/`city` when no Country database is set. */
  geo?: { country?: string; city?: string };
  securityTxt?: SecurityTxt;
  /** Every e-mail address found, deduplicated, abuse contacts first (see `contacts.ts` for the order). */
  contacts: Contact[];
  /** One clear sentence per source that failed. Never thrown. */
  errors: string[];
  /** Which sources were answered from the cache, e.g. `['ptr', 'rdap']` (empty on a fresh lookup). */
  cached: string[];
}

/** The IP network object of an RDAP reply (RFC 9083 §5.4), flattened to what a notice needs. */
export interface RdapNetwork {
  /** `handle` of the network object, e.g. `NET-192-0-2-0-1` (ARIN) or `192.0.2.0 - 192.0.2.255` (RIPE). */
  handle?: string;
  /** `name`, e.g. `EXAMPLE-NET`. */
  name?: string;
  /** `type`, e.g. `DIRECT ALLOCATION`, `ASSIGNED PA`. */
  type?: string;
  /** The first of `cidrs`. */
  cidr?: string;
  /** From the `cidr0_cidrs` extension when present, else summarised from `startAddress`–`endAddress`. */
  cidrs: string[];
  startAddress?: string;
  endAddress?: string;
  /** `country` (two-letter code). */
  country?: string;
  parentHandle?: string;
  /** Base URL of the RDAP server whose reply this is (after redirects and referrals). */
  registry: string;
  /** The URL of the reply. */
  url: string;
  /** E-mail addresses of every entity with the `abuse` role, at any depth. */
  abuseEmails: string[];
  entities: RdapEntity[];
  /** `remarks[].title` and `description` lines of the network object. */
  remarks: string[];
}

/** One RDAP entity (RFC 9083 §5.1) with its jCard (RFC 7095) flattened; nested entities kept nested. */
export interface RdapEntity {
  handle?: string;
  /** e.g. `abuse`, `technical`, `administrative`, `registrant`, `noc`. */
  roles: string[];
  /** vCard `fn`. */
  name?: string;
  /** vCard `kind`: `individual`, `org`, `group`. */
  kind?: string;
  /** vCard `org`. */
  org?: string;
  emails: string[];
  /** vCard `tel` values (`tel:` URIs or text), as given. */
  phones: string[];
  /** vCard `adr`: the `label` parameter, or the structured components joined. */
  addresses: string[];
  remarks: string[];
  entities: RdapEntity[];
}

/** An RFC 9116 security.txt found on the host itself. */
export interface SecurityTxt {
  url: string;
  /** `Contact:` values as written (`mailto:`, `https:`, `tel:` URIs). */
  contacts: string[];
  /** `Expires:` as written. */
  expires?: string;
  /** True when `Expires` is in the past at fetch time (RFC 9116: the file should then not be trusted). */
  expired?: boolean;
  encryption: string[];
  policy: string[];
  preferredLanguages?: string;
  canonical: string[];
  /** True when the file was wrapped in an OpenPGP cleartext signature (not verified). */
  signed: boolean;
}

export type ContactSource = 'rdap' | 'security.txt';

export interface Contact {
  email: string;
  source: ContactSource;
  /** The RDAP role (`abuse`, `technical` …) or `security` for a security.txt contact. */
  role: string;
}

/** A port on the target where security.txt is looked for. */
export interface SecurityTxtPort {
  port: number;
  tls: boolean;
}

/** The only places security.txt is fetched from: the target itself, on these ports. */
export const SECURITY_TXT_PORTS: readonly SecurityTxtPort[] = [
  { port: 443, tls: true },
  { port: 8443, tls: true },
  { port: 80, tls: false },
  { port: 8080, tls: false },
];
