import { ExitCode } from './exit-codes.js';
import { log } from './output.js';

/**
 * Ctrl-C (or SIGTERM) for long commands: the first one aborts `controller` so the work stops cleanly
 * after the current batch and stays resumable; a second one quits at once. Returns the function that
 * removes the handlers.
 */
export function stopOnInterrupt(controller: AbortController): () => void {
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts++;
    if (interrupts === 1) {
      log('\nStopping: finishing the current batch (Ctrl-C again to quit at once)…');
      controller.abort(new Error('Interrupted'));
    } else {
      process.exit(ExitCode.interrupted);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
