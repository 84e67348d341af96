/**
 * One error hierarchy with stable codes. Messages are in sentence case and name the input at fault.
 * Code that catches an error branches on `code`, never on the message.
 */
export const ErrorCode = {
  targetParse: 'E_TARGET_PARSE',
  targetTooLarge: 'E_TARGET_TOO_LARGE',
  targetResolve: 'E_TARGET_RESOLVE',
  config: 'E_CONFIG',
  usage: 'E_USAGE',
  protocol: 'E_PROTOCOL',
  readLimit: 'E_READ_LIMIT',
  commandNotAllowed: 'E_COMMAND_NOT_ALLOWED',
  connectTimeout: 'E_CONNECT_TIMEOUT',
  connectionClosed: 'E_CONNECTION_CLOSED',
  store: 'E_STORE',
  notFound: 'E_NOT_FOUND',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class LockdownError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A target specification that cannot be parsed. `source` names where it came from (argument, file:line). */
export class TargetParseError extends LockdownError {
  readonly input: string;
  readonly source: string;
  constructor(input: string, source: string, reason: string) {
    super(ErrorCode.targetParse, `Invalid target ${JSON.stringify(input)} at ${source}: ${reason}`);
    this.input = input;
    this.source = source;
  }
}

export class TargetTooLargeError extends LockdownError {
  constructor(input: string, source: string, size: bigint, limit: bigint) {
    super(
      ErrorCode.targetTooLarge,
      `Target ${JSON.stringify(input)} at ${source} expands to ${size} addresses, more than the limit of ${limit}; ` +
        'narrow it or pass --allow-large-ipv6 to scan it anyway',
    );
  }
}

export class ConfigError extends LockdownError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.config, message, options);
  }
}

export class UsageError extends LockdownError {
  constructor(message: string) {
    super(ErrorCode.usage, message);
  }
}

/** The peer spoke something other than the expected protocol, or a malformed frame. */
export class ProtocolError extends LockdownError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.protocol, message, options);
  }
}

/** The server sent more bytes than the per-connection read cap. */
export class ReadLimitError extends LockdownError {
  readonly limit: number;
  constructor(limit: number) {
    super(ErrorCode.readLimit, `Server sent more than the read cap of ${limit} bytes; connection closed`);
    this.limit = limit;
  }
}

/** A module tried to send a command missing from its allow-list: a bug, never sent. */
export class CommandNotAllowedError extends LockdownError {
  constructor(module: string, command: string) {
    super(ErrorCode.commandNotAllowed, `Module ${module} tried to send ${JSON.stringify(command)}, which is not on its allow-list`);
  }
}

export class ConnectTimeoutError extends LockdownError {
  constructor(ms: number) {
    super(ErrorCode.connectTimeout, `No answer to connect within ${ms} ms`);
  }
}

export class ConnectionClosedError extends LockdownError {
  constructor(message = 'Server closed the connection before the reply was complete') {
    super(ErrorCode.connectionClosed, message);
  }
}

export class StoreError extends LockdownError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.store, message, options);
  }
}

export class NotFoundError extends LockdownError {
  constructor(message: string) {
    super(ErrorCode.notFound, message);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
