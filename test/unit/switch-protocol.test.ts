import { describe, expect, it } from 'vitest';
import {
  failure,
  MAX_LINE_BYTES,
  parseRequest,
  parseResponse,
  type SwitchRequest,
  type SwitchResponse,
  serializeRequest,
  serializeResponse,
} from '../../lib/fencing/switch-protocol.js';

const req = (x: object) => JSON.stringify({ v: 1, id: 'r1', ...x });

describe('switch protocol: requests', () => {
  it('round-trips every action as one line', () => {
    const all: SwitchRequest[] = [
      { v: 1, id: 'a', action: 'list' },
      { v: 1, id: 'b', action: 'status', plug: 'db1' },
      { v: 1, id: 'c', action: 'off', plug: 'db2', from: 'db1.localnet' },
      { v: 1, id: 'd', action: 'on', plug: 'db2' },
    ];
    for (const r of all) {
      const line = serializeRequest(r);
      expect(line.endsWith('\n')).toBe(true);
      expect(line.slice(0, -1)).not.toContain('\n');
      expect(parseRequest(line.slice(0, -1))).toEqual({ ok: true, value: r });
    }
  });

  it('says what is wrong, and keeps the id when it could read one', () => {
    expect(parseRequest('{nope')).toMatchObject({ ok: false, code: 'bad-request', id: null, error: expect.stringMatching(/^not JSON/) });
    expect(parseRequest(req({ action: 'reset', plug: 'db1' }))).toMatchObject({ ok: false, code: 'bad-request', id: 'r1' });
    expect(parseRequest(req({ action: 'off' }))).toMatchObject({ ok: false, error: 'plug: required for off', id: 'r1' });
    expect(parseRequest(req({ action: 'list', plug: 'db1' }))).toMatchObject({ ok: false, error: 'plug: list takes no plug' });
    expect(parseRequest(req({ action: 'off', plug: 'DB1; rm -rf /' }))).toMatchObject({ ok: false, error: /plug: a host name/ });
    expect(parseRequest(req({ action: 'off', plug: 'db1', force: true }))).toMatchObject({ ok: false, code: 'bad-request' });
    expect(parseRequest(JSON.stringify({ v: 2, id: 'r9', action: 'list' }))).toMatchObject({
      ok: false,
      code: 'unsupported-version',
      id: 'r9',
    });
    expect(parseRequest(JSON.stringify({ v: 1, id: 'bad id!', action: 'list' }))).toMatchObject({ ok: false, id: null });
  });

  it('refuses a line over the bound before parsing it', () => {
    const long = req({ action: 'list', from: 'x'.repeat(MAX_LINE_BYTES) });
    expect(parseRequest(long)).toMatchObject({ ok: false, code: 'bad-request', error: `line longer than ${MAX_LINE_BYTES} bytes` });
  });
});

describe('switch protocol: answers', () => {
  it('round-trips success and failure answers', () => {
    const all: SwitchResponse[] = [
      { v: 1, id: 'a', ok: true, action: 'status', plug: 'db1', state: 'on' },
      {
        v: 1,
        id: 'b',
        ok: true,
        action: 'list',
        plugs: [
          { plug: 'db1', state: 'on' },
          { plug: 'db2', state: 'off' },
        ],
      },
      failure('c', 'unknown-plug', 'no plug db3'),
      failure(null, 'bad-request', 'not JSON'),
    ];
    for (const r of all) expect(parseResponse(serializeResponse(r).trimEnd())).toEqual({ ok: true, value: r });
  });

  it('rejects an answer to another request, or one without the plug state', () => {
    const line = serializeResponse({ v: 1, id: 'other', ok: true, action: 'off', plug: 'db2', state: 'off' }).trimEnd();
    expect(parseResponse(line, 'mine')).toMatchObject({ ok: false, error: 'answer to request other, expected mine' });
    expect(parseResponse(JSON.stringify({ v: 1, id: 'a', ok: true, action: 'off', plug: 'db2' }))).toMatchObject({ ok: false });
  });

  it('cuts a long failure message so the answer stays one bounded line', () => {
    const f = failure('a', 'failed', 'e'.repeat(2000));
    expect(f.error).toHaveLength(512);
    expect(serializeResponse(f).length).toBeLessThan(MAX_LINE_BYTES);
  });
});
