/** An error meant for the operator: says what went wrong and what to do, no stack trace needed. */
export class HarnessError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(hint ? `${message}\n  → ${hint}` : message);
    this.name = 'HarnessError';
  }
}
