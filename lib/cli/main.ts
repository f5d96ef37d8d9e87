import { HarnessError } from '../util/errors.js';
import { redact } from '../util/redact.js';

/** Runs a CLI's main: exit with its code; operator errors as one redacted line, others with a stack. */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (e) => {
      // A bad option (node:util parseArgs) is the user's input, not a harness bug: no stack.
      const badOption = String((e as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS');
      const text = e instanceof HarnessError ? e.message : badOption ? `${(e as Error).message} (see --help)` : ((e as Error).stack ?? e);
      console.error(redact(`error: ${text}`));
      process.exit(1);
    },
  );
}
