/**
 * One MongoDB conversation over a bounded `Session`: numbered requests, replies matched by `responseTo`,
 * and pipelining (send several commands, then read their replies in order — MongoDB answers the messages of
 * one connection one at a time, in order), which keeps a probe of many collections to about one round trip.
 * Every send names an allow-listed command; the session refuses anything else.
 */
import { ProtocolError } from '../../core/errors.js';
import { type Session } from '../../net/session.js';
import { encodeOpMsg, encodeOpQuery, messageDecoder, OP_CODE, type Document, type OpReply } from './codec.js';

/** The server answered an OP_MSG with a legacy OP_REPLY: it predates OP_MSG (MongoDB < 3.6). */
export class LegacyReplyError extends ProtocolError {
  constructor() {
    super('Server answered OP_MSG with a legacy OP_REPLY');
  }
}

export interface PendingReply {
  command: string;
  requestId: number;
}

export class MongoConnection {
  private nextId = 1;

  constructor(
    readonly session: Session,
    /** min(maxMessageSizeBytes, read cap): a longer reply is refused as soon as its header arrives. */
    private readonly maxMessageBytes: number,
  ) {}

  /** Send one OP_MSG command (`body` names the command first and carries `$db`) without waiting. */
  send(command: string, body: Document): PendingReply {
    const requestId = this.nextId++;
    this.session.send(command, encodeOpMsg(requestId, body));
    return { command, requestId };
  }

  /** The OP_MSG reply body to a request sent with `send`. */
  async reply(pending: PendingReply): Promise<Document> {
    const msg = await this.session.read(messageDecoder({ maxMessageBytes: this.maxMessageBytes, responseTo: pending.requestId }));
    if (msg.opCode === OP_CODE.reply) throw new LegacyReplyError();
    if (msg.opCode !== OP_CODE.msg) throw new ProtocolError(`Expected an OP_MSG reply to ${pending.command}, got opCode ${msg.opCode}`);
    return msg.body;
  }

  async command(command: string, body: Document): Promise<Document> {
    return this.reply(this.send(command, body));
  }

  /** The legacy handshake: OP_QUERY on `admin.$cmd`, answered by OP_REPLY with one document. */
  async legacyCommand(command: string, query: Document): Promise<{ reply: OpReply; document: Document }> {
    const requestId = this.nextId++;
    this.session.send(command, encodeOpQuery(requestId, 'admin.$cmd', query));
    const msg = await this.session.read(messageDecoder({ maxMessageBytes: this.maxMessageBytes, responseTo: requestId }));
    if (msg.opCode !== OP_CODE.reply) throw new ProtocolError(`Expected an OP_REPLY to ${command}, got opCode ${msg.opCode}`);
    const document = msg.documents[0];
    if (document === undefined) throw new ProtocolError(`OP_REPLY to ${command} holds no document`);
    return { reply: msg, document };
  }

  close(): void {
    this.session.close();
  }
}
