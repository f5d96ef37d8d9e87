import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { timelineSvg, type HistoryJson } from '../../lib/report/timeline.js';

const DIR = resolve(import.meta.dirname, '../../fixtures/histories');
const load = (name: string) => JSON.parse(readFileSync(join(DIR, `${name}.history.json`), 'utf8')) as HistoryJson;
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: () => true });

/** Every element (depth first) with its attributes, from the parsed SVG. */
function elements(svg: string): { tag: string; attrs: Record<string, string> }[] {
  expect(XMLValidator.validate(svg)).toBe(true);
  const out: { tag: string; attrs: Record<string, string> }[] = [];
  const walk = (node: unknown, tag: string) => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n, tag);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(node)) if (k.startsWith('@')) attrs[k.slice(1)] = String(v);
    out.push({ tag, attrs });
    for (const [k, v] of Object.entries(node)) if (!k.startsWith('@') && k !== '#text') walk(v, k);
  };
  walk(parser.parse(svg), '#document');
  return out;
}
const byClass = (els: ReturnType<typeof elements>, c: string) => els.filter((e) => (e.attrs.class ?? '').split(/\s+/).includes(c));

describe('timeline SVG', () => {
  it('draws every fixture history as well-formed SVG with one lane per node', () => {
    for (const f of readdirSync(DIR).filter((x) => x.endsWith('.history.json'))) {
      const h = load(f.replace('.history.json', ''));
      const els = elements(timelineSvg(h));
      const nodes = [...new Set(h.events.flatMap((e) => (e.type === 'observe' ? Object.keys(e.nodes) : [])))].sort();
      expect(
        byClass(els, 'lane')
          .map((e) => e.attrs['data-node'])
          .sort(),
        f,
      ).toEqual(nodes);
      expect(els.find((e) => e.tag === 'svg')?.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    }
  });

  it('5-corosync-stop: a dual-VIP band across the lanes, the fault window, the failover mark', () => {
    const els = elements(timelineSvg(load('5-corosync-stop')));
    const dual = byClass(els, 'dual-vip');
    expect(dual).toHaveLength(1);
    expect(dual[0]!.attrs['data-holders']).toBe('db1,db2');
    expect(Number(dual[0]!.attrs['data-to']) - Number(dual[0]!.attrs['data-from'])).toBeGreaterThan(8000);
    const fw = byClass(els, 'fault-window');
    expect(fw.map((e) => e.attrs['data-fault'])).toEqual(['corosync stop on db1']);
    expect(Number(fw[0]!.attrs['data-from'])).toBeCloseTo(19.5);
    const fo = byClass(els, 'failover');
    expect(fo).toHaveLength(1);
    expect(Number(fo[0]!.attrs['data-ms'])).toBeCloseTo(1289, -1);
  });

  it('2-pacemaker-stop: no dual-VIP band; a fault window and a failover', () => {
    const els = elements(timelineSvg(load('2-pacemaker-stop')));
    expect(byClass(els, 'dual-vip')).toHaveLength(0);
    expect(byClass(els, 'fault-window').map((e) => e.attrs['data-fault'])).toEqual(['pacemaker stop on db1']);
    expect(byClass(els, 'failover')).toHaveLength(1);
  });

  it('7-forced-move: one fault window per act, no dual VIP', () => {
    const els = elements(timelineSvg(load('7-forced-move')));
    expect(byClass(els, 'fault-window')).toHaveLength(3);
    expect(byClass(els, 'dual-vip')).toHaveLength(0);
  });

  it('draws client writes as ticks, failed ones distinct, and a role row when observed', () => {
    const h = load('5-corosync-stop');
    const extra = [
      { t: 500, type: 'write' as const, key: 1, node: 'db1', result: 'ok' as const, latencyMs: 3 },
      { t: 2000, type: 'write' as const, key: 2, result: 'fail' as const, latencyMs: 1000, error: 'ECONNREFUSED' },
      { t: 3000, type: 'write' as const, key: 3, result: 'unknown' as const, latencyMs: 5000 },
    ];
    const withRole = h.events.map((e) =>
      e.type === 'observe'
        ? {
            ...e,
            nodes: Object.fromEntries(Object.entries(e.nodes).map(([n, o]) => [n, { ...o, role: n === 'db1' ? 'primary' : 'replica' }])),
          }
        : e,
    );
    const els = elements(timelineSvg({ ...h, events: [...withRole, ...extra] }));
    expect(byClass(els, 'write-ok')).toHaveLength(1);
    expect(byClass(els, 'write-fail')).toHaveLength(1);
    expect(byClass(els, 'write-unknown')).toHaveLength(1);
    expect(byClass(els, 'seg-role').length).toBeGreaterThan(0);
  });

  it('escapes text that is not XML-safe', () => {
    const h = load('2-pacemaker-stop');
    const svg = timelineSvg({ ...h, events: h.events.map((e) => (e.type === 'fault' ? { ...e, fault: 'kill <pid> & "x"' } : e)) });
    expect(byClass(elements(svg), 'fault-window')[0]!.attrs['data-fault']).toBe('kill <pid> & "x"');
    expect(svg).not.toContain('kill <pid>');
  });
  it("the MySQL row: a replica's lag, and a writable replica drawn as wrong (a restarted replica is writable)", () => {
    const node = { vip: false, linkUp: true, corosync: true, pacemakerd: true, children: [] };
    const replica = (readOnly: boolean, secondsBehind: number) => ({
      up: true,
      readOnly,
      replica: { io: 'Yes', sql: 'Yes', secondsBehind },
    });
    const h: HistoryJson = {
      startedAt: '2026-11-28T00:00:00.000Z',
      events: [
        { t: 0, type: 'observe', nodes: { db2: node } },
        { t: 0, type: 'mysql', nodes: { db2: replica(true, 3) } },
        { t: 5000, type: 'mysql', nodes: { db2: replica(false, 0) } },
        { t: 10_000, type: 'step', step: 'end' },
      ],
    };
    const segs = byClass(elements(timelineSvg(h)), 'seg-mysql');
    expect(segs.map((e) => [e.attrs['data-state'], e.attrs.fill])).toEqual([
      ['read_only replica lag 3s', '#9aa5b1'],
      ['writable replica', '#e0182d'],
    ]);
  });
});
