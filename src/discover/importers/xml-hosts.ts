import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { capText } from './claims.js';
import { type ImportSink } from './types.js';

/**
 * Hosts of an `<nmaprun>` document (nmap `-oX`, documented by docs/nmap.dtd; masscan `-oX` writes the
 * same shape), read with a streaming XML parser: each `<host>` is handed over when it closes, so memory
 * holds one host, whatever the size of the file. Well-formedness errors are reported with their line
 * and parsing goes on, so one bad host does not lose the rest.
 */

export interface XmlPort {
  /** Line of the `<port>` tag. */
  line: number;
  protocol: string;
  portid: string;
  state: string | undefined;
  /** Attributes of `<service>` (name, product, version, extrainfo, tunnel, banner …). */
  service: Record<string, string>;
  /** NSE scripts: id and their `output` text (capped). */
  scripts: { id: string; output: string }[];
}

export interface XmlHost {
  line: number;
  /** `<nmaprun scanner=…>`: `nmap` or `masscan`. */
  scanner: string;
  addresses: { addr: string; addrtype: string }[];
  hostnames: string[];
  /** `<status state=…>`: up, down … (masscan writes none). */
  status: string | undefined;
  starttime: string | undefined;
  endtime: string | undefined;
  ports: XmlPort[];
}

/** Script output kept per script (an NSE script can print pages; evidence needs a few lines). */
const SCRIPT_OUTPUT_CAP = 4096;
/** More errors than this and the input is not XML at all: stop instead of reporting every byte. */
const MAX_ERRORS = 1000;

export class NmapXmlReader {
  private readonly parser = new SaxesParser({ xmlns: false, position: true });
  private scanner = '';
  private host: XmlHost | undefined;
  private port: XmlPort | undefined;
  private errors = 0;
  private sawRoot = false;
  /** Set while `close()` runs: unclosed tags at the end mean a cut-off file, reported once. */
  private unclosed: string[] | undefined;

  constructor(
    private readonly onHost: (host: XmlHost) => void,
    private readonly sink: ImportSink,
  ) {
    this.parser.on('opentag', (tag) => this.open(tag));
    this.parser.on('closetag', (tag) => this.close(tag));
    this.parser.on('error', (err) => {
      const message = err.message.replace(/^(?:[^:]*:)?\d+:\d+: /, '');
      const unclosed = /^unclosed tag: (.*)$/.exec(message);
      if (this.unclosed && unclosed) {
        this.unclosed.push(unclosed[1] as string);
        return;
      }
      this.errors++;
      this.sink.malformed(this.parser.line, `not well-formed XML (${message})`);
      if (this.errors > MAX_ERRORS) throw new Error(`more than ${MAX_ERRORS} XML errors: this is not an nmap/masscan XML file`);
    });
  }

  /** Lines read so far. */
  get lines(): number {
    return this.parser.line;
  }

  write(text: string): void {
    this.parser.write(text);
  }

  /** `lastLine`: the file's last line, where a cut-off document is reported. */
  end(lastLine: number): void {
    this.unclosed = [];
    this.parser.close();
    const open = this.unclosed;
    this.unclosed = undefined;
    if (!this.sawRoot) this.sink.malformed(1, 'no <nmaprun> element: not an nmap or masscan XML file');
    else if (open.length > 0) {
      // A scan stopped mid-write: every host before is whole; of the one being written, keep its whole <port>s.
      const tags = open.map((t) => `</${t}>`).join(', ');
      const host = this.host;
      this.host = undefined;
      const partial = host ? `; of the <host> from line ${host.line}, ${host.ports.length} complete <port> element(s) kept` : '';
      this.sink.malformed(Math.max(1, lastLine), `the file ends before ${tags} (cut off?)${partial}`);
      if (host && host.ports.length > 0) this.onHost(host);
    }
  }

  private open(tag: SaxesTagPlain): void {
    const a = tag.attributes as Record<string, string>;
    const line = this.parser.line;
    switch (tag.name) {
      case 'nmaprun':
        this.sawRoot = true;
        this.scanner = a.scanner ?? 'nmap';
        break;
      case 'host':
        this.host = {
          line,
          scanner: this.scanner,
          addresses: [],
          hostnames: [],
          status: undefined,
          starttime: a.starttime,
          endtime: a.endtime,
          ports: [],
        };
        break;
      case 'status':
        if (this.host) this.host.status = a.state;
        break;
      case 'address':
        if (this.host && a.addr) this.host.addresses.push({ addr: a.addr, addrtype: a.addrtype ?? 'ipv4' });
        break;
      case 'hostname':
        if (this.host && a.name) this.host.hostnames.push(a.name);
        break;
      case 'port':
        if (this.host) this.port = { line, protocol: a.protocol ?? 'tcp', portid: a.portid ?? '', state: undefined, service: {}, scripts: [] };
        break;
      case 'state':
        if (this.port) this.port.state = a.state;
        break;
      case 'service':
        if (this.port) this.port.service = { ...a };
        break;
      case 'script':
        // Port scripts only; host scripts (<hostscript>) are not about one service.
        if (this.port && a.id) this.port.scripts.push({ id: a.id, output: capText(a.output ?? '', SCRIPT_OUTPUT_CAP) });
        break;
      default:
        break;
    }
  }

  private close(tag: SaxesTagPlain): void {
    if (tag.name === 'port' && this.host && this.port) {
      this.host.ports.push(this.port);
      this.port = undefined;
    } else if (tag.name === 'host' && this.host) {
      const host = this.host;
      this.host = undefined;
      this.port = undefined;
      this.onHost(host);
    }
  }
}
