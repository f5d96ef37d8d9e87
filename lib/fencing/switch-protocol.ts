import { z } from 'zod';

/**
 * The lab power switch's wire protocol: one JSON request line from a fence agent (fence_mhc, in
 * a db host), one JSON answer line from the switch (power-switch.ts, outside the hosts), over a
 * unix socket, then the connection ends. One line each way keeps the agent a short stdlib-only
 * script, and a bounded line keeps a broken peer from making either side buffer without end.
 *
 * Actions are the switch's, not the fence agent's: the agent builds reboot from off, status and
 * on, and monitor from list, as fence-agents' fencing.py does; the switch only powers plugs.
 */
export const PROTOCOL_VERSION = 1;
/** Longest line either side accepts (bytes, without the newline). */
export const MAX_LINE_BYTES = 4096;

export const SWITCH_ACTIONS = ['status', 'on', 'off', 'list'] as const;
export type SwitchAction = (typeof SWITCH_ACTIONS)[number];
export type PlugState = 'on' | 'off';
/** Why a request failed, for the agent's message and the history. */
export const ERROR_CODES = ['bad-request', 'unsupported-version', 'unknown-plug', 'failed', 'timeout'] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

// A plug is a lab host (profile.json host names).
const plugName = z.string().regex(/^[a-z][a-z0-9-]{0,14}$/, 'a host name like db1');
const requestId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, '1-64 letters, digits, - or _');
const state = z.enum(['on', 'off']);

const requestShape = z.strictObject({
  v: z.number().int(),
  id: requestId,
  action: z.enum(SWITCH_ACTIONS),
  plug: plugName.optional(),
  /** The host the agent runs on, as it says (the switch trusts the socket it came in on more). */
  from: z.string().max(64).optional(),
});

export type SwitchRequest =
  | { v: 1; id: string; action: 'list'; from?: string }
  | { v: 1; id: string; action: Exclude<SwitchAction, 'list'>; plug: string; from?: string };

const responseShape = z.union([
  z.strictObject({ v: z.literal(1), id: requestId, ok: z.literal(true), action: z.enum(['status', 'on', 'off']), plug: plugName, state }),
  z.strictObject({
    v: z.literal(1),
    id: requestId,
    ok: z.literal(true),
    action: z.literal('list'),
    plugs: z.array(z.strictObject({ plug: plugName, state })),
  }),
  // id is null when the request could not be read far enough to know it.
  z.strictObject({
    v: z.literal(1),
    id: requestId.nullable(),
    ok: z.literal(false),
    code: z.enum(ERROR_CODES),
    error: z.string().max(512),
  }),
]);
export type SwitchResponse = z.infer<typeof responseShape>;
export type SwitchFailure = Extract<SwitchResponse, { ok: false }>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; error: string; id: string | null };

const issues = (e: z.ZodError) => e.issues.map((i) => `${i.path.join('.') || '(line)'}: ${i.message}`).join('; ');

/** Reads a JSON line within the length bound; the id is recovered when possible, for the answer. */
function readLine(line: string): { json?: unknown; error?: string; id: string | null } {
  if (Buffer.byteLength(line) > MAX_LINE_BYTES) return { error: `line longer than ${MAX_LINE_BYTES} bytes`, id: null };
  try {
    const json: unknown = JSON.parse(line);
    const id = (json as { id?: unknown } | null)?.id;
    return { json, id: typeof id === 'string' && requestId.safeParse(id).success ? id : null };
  } catch (e) {
    return { error: `not JSON: ${(e as Error).message}`, id: null };
  }
}

/** A request line as the switch receives it (without its newline). */
export function parseRequest(line: string): Parsed<SwitchRequest> {
  const { json, error, id } = readLine(line);
  if (error) return { ok: false, code: 'bad-request', error, id };
  const r = requestShape.safeParse(json);
  if (!r.success) return { ok: false, code: 'bad-request', error: issues(r.error), id };
  const q = r.data;
  if (q.v !== PROTOCOL_VERSION)
    return { ok: false, code: 'unsupported-version', error: `protocol version ${q.v}, this switch speaks ${PROTOCOL_VERSION}`, id: q.id };
  if (q.action === 'list') {
    if (q.plug !== undefined) return { ok: false, code: 'bad-request', error: 'plug: list takes no plug', id: q.id };
    return { ok: true, value: { v: 1, id: q.id, action: 'list', from: q.from } };
  }
  if (q.plug === undefined) return { ok: false, code: 'bad-request', error: `plug: required for ${q.action}`, id: q.id };
  return { ok: true, value: { v: 1, id: q.id, action: q.action, plug: q.plug, from: q.from } };
}

/** An answer line as the agent receives it; `expectId` rejects an answer to another request. */
export function parseResponse(line: string, expectId?: string): Parsed<SwitchResponse> {
  const { json, error, id } = readLine(line);
  if (error) return { ok: false, code: 'bad-request', error, id };
  const r = responseShape.safeParse(json);
  if (!r.success) return { ok: false, code: 'bad-request', error: issues(r.error), id };
  if (expectId !== undefined && r.data.id !== null && r.data.id !== expectId)
    return { ok: false, code: 'bad-request', error: `answer to request ${r.data.id}, expected ${expectId}`, id: r.data.id };
  return { ok: true, value: r.data };
}

/** One line with its newline; JSON.stringify escapes newlines inside strings, so it stays one line. */
function line(x: object): string {
  const s = JSON.stringify(x);
  if (Buffer.byteLength(s) > MAX_LINE_BYTES) throw new Error(`switch protocol: message longer than ${MAX_LINE_BYTES} bytes`);
  return `${s}\n`;
}

export function serializeRequest(r: SwitchRequest): string {
  return line(r);
}

export function serializeResponse(r: SwitchResponse): string {
  return line(r);
}

/** A failure answer; long messages are cut so that the line stays within the bound. */
export function failure(id: string | null, code: ErrorCode, error: string): SwitchFailure {
  return { v: 1, id, ok: false, code, error: error.length > 512 ? `${error.slice(0, 509)}...` : error };
}
