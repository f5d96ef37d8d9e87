import { HarnessError } from '../util/errors.js';
import { redact } from '../util/redact.js';

/** Runs a CLI's main: exit with its code; operator errors as one redacted line, others with a stack. */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(redact(e instanceof HarnessError ? `error: ${e.message}` : `error: ${(e as Error).stack ?? e}`));
      process.exit(1);
    },
  );
}
