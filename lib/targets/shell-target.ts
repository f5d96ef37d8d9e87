import { HarnessError } from '../util/errors.js';
import { redact } from '../util/redact.js';
import type { ExecOptions, ExecResult } from './target.js';

/** What every target derives from its exec(): a shell snippet and a signal by PID. */
export abstract class ShellTarget {
  abstract exec(host: string, argv: string[], opts?: ExecOptions): Promise<ExecResult>;

  sh(host: string, script: string, opts?: ExecOptions): Promise<ExecResult> {
    return this.exec(host, ['sh', '-c', script], opts);
  }

  async kill(host: string, pid: number, signal: NodeJS.Signals | number): Promise<void> {
    const sig = typeof signal === 'number' ? String(signal) : signal.replace(/^SIG/, '');
    await this.exec(host, ['kill', `-${sig}`, String(pid)]);
  }
}

/** The error for a command that failed on a host: which host, which command, why, its last output. */
export function commandFailed(host: string, argv: string[], res: ExecResult, timedOutAfterMs?: number): HarnessError {
  const why = timedOutAfterMs !== undefined ? `timed out after ${timedOutAfterMs} ms` : `exit ${res.exitCode}`;
  return new HarnessError(redact(`on ${host}: \`${argv.join(' ')}\` failed (${why}): ${(res.stderr || res.stdout).trim().slice(-800)}`));
}
