/** Exit codes (knip / nmap conventions): scripts branch on these. */
export const ExitCode = {
  /** Finished; nothing at or above --fail-on. */
  ok: 0,
  /** Finished, and something at or above --fail-on was found. */
  findings: 1,
  /** Bad input, bad config, or an error that stopped the command. */
  error: 2,
  /** Interrupted (Ctrl-C); a scan can be resumed. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
