/**
 * The alerting API over a real app and store, on every backend: roles, region
 * scope (a GD manager can neither see nor acknowledge BJ), acknowledgements,
 * silences, rules (create, validate, update, delete, export, import) and their
 * survival across a restart, and the audit trail of each change.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { createRecordingNotifier, instanceId, type RecordingNotifier } from '../../alerts/index.js';
import { sql, type Store } from '../../store/index.js';
import { TOKENS, bearer, buildTestApp, testConfig } from '../helpers/app.js';
import { call, insertFixture, iso, MIN } from '../helpers/kpi-fixtures.js';
import { BACKENDS, openTestStore } from '../helpers/store.js';

const NOW = iso('2026-11-30T02:15:00Z');
const answerRate = {
  id: 'answer-rate', kpi: 'answer_rate', window: '15m', when: 'below',
  thresholds: { warning: 0.95, critical: 0.90 }, clear: { warning: 0.96, critical: 0.92 }, minVolume: 10,
};
const csat = { id: 'csat', kpi: 'csat', window: '24h', every: '5m', when: 'below', thresholds: { warning: 0.9 }, minVolume: 20 };
// Slow to fire: GD and BJ stay pending under it (15 of 20 abandoned = 0.75 > 0.5, for 1 h).
const abandonSlow = { id: 'abandon-slow', kpi: 'abandon_rate', window: '15m', when: 'above', thresholds: { warning: 0.5 }, for: '1h', minVolume: 10 };
const config = testConfig({ alerts: { rules: [answerRate as never, abandonSlow as never] } });

describe.each(BACKENDS)('alerting API on %s', (backend) => {
  let store: Store;
  let app: FastifyInstance;
  let notifier: RecordingNotifier;
  const now = () => new Date(NOW * 1000);
  const gd = instanceId('answer-rate', { rule: 'answer-rate', region: 'GD' });
  const bj = instanceId('answer-rate', { rule: 'answer-rate', region: 'BJ' });
  const gdSlow = instanceId('abandon-slow', { rule: 'abandon-slow', region: 'GD' });
  const bjSlow = instanceId('abandon-slow', { rule: 'abandon-slow', region: 'BJ' });

  const req = (method: string, url: string, token: string, payload?: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: method as 'GET', url: `/api/v1${url}`, headers: { ...bearer(token), ...headers }, ...(payload === undefined ? {} : { payload: payload as string }) });

  beforeAll(async () => {
    store = await openTestStore(backend);
    // GD and BJ both at 5 answered of 20 (0.25): both fire critical.
    const rows = [];
    for (const region of ['GD', 'BJ']) {
      for (let k = 0; k < 20; k++) {
        rows.push(call({ id: `${region}-${k}`, region, enteredAt: NOW - 10 * MIN + k, outcome: k < 5 ? 'answered' : 'abandoned', wait: k < 5 ? 10 : 30 }));
      }
    }
    await insertFixture(store, { calls: rows });
    notifier = createRecordingNotifier();
    app = await buildTestApp(store, { config, now, alertNotifier: notifier });
    await app.ready();
    await app.alertEngine.evaluate(now());
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  describe('instances and region scope', () => {
    it('lists every active instance for an unscoped reader, and only GD for the GD manager', async () => {
      const all = await req('GET', '/alerts', TOKENS.viewer);
      expect(all.statusCode).toBe(200);
      // Critical first, then firing before pending, then by rule and region.
      expect(all.json().alerts.map((a: { id: string }) => a.id)).toEqual([bj, gd, bjSlow, gdSlow]);
      expect(all.json().alerts.map((a: { state: string }) => a.state)).toEqual(['firing', 'firing', 'pending', 'pending']);
      const mine = await req('GET', '/alerts', TOKENS.managerGD);
      expect(mine.json().alerts.map((a: { id: string }) => a.id)).toEqual([gd, gdSlow]);
    });

    it('filters by severity, rule and state, and refuses unknown values naming them', async () => {
      expect((await req('GET', '/alerts?severity=warning', TOKENS.viewer)).json().alerts.map((a: { id: string }) => a.id)).toEqual([bjSlow, gdSlow]);
      expect((await req('GET', '/alerts?state=firing&region=GD', TOKENS.viewer)).json().alerts.map((a: { id: string }) => a.id)).toEqual([gd]);
      expect((await req('GET', '/alerts?severity=critical&rule=answer-rate&region=BJ', TOKENS.viewer)).json().alerts.map((a: { id: string }) => a.id)).toEqual([bj]);
      expect((await req('GET', '/alerts?state=ok', TOKENS.viewer)).json().alerts.map((a: { labels: { region: string } }) => a.labels.region)).toEqual([]);
      const bad = await req('GET', '/alerts?state=burning', TOKENS.viewer);
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.message).toBe('state: unknown burning; valid: ok, pending, firing, resolved');
    });

    it('answers 403 when the GD manager asks for BJ, and 404 for a BJ instance or its history', async () => {
      expect((await req('GET', '/alerts?region=BJ', TOKENS.managerGD)).statusCode).toBe(403);
      expect((await req('GET', `/alerts/${bj}`, TOKENS.managerGD)).statusCode).toBe(404);
      expect((await req('GET', `/alerts/${bj}/history`, TOKENS.managerGD)).statusCode).toBe(404);
      const own = await req('GET', `/alerts/${gd}/history`, TOKENS.managerGD);
      expect(own.statusCode).toBe(200);
      expect(own.json().history.map((h: { reason: string; to: string }) => `${h.to}:${h.reason}`)).toEqual(['firing:threshold']);
    });

    it('does not let the GD manager acknowledge BJ', async () => {
      notifier.clear();
      const res = await req('POST', `/alerts/${bj}/ack`, TOKENS.managerGD, { comment: 'not mine' });
      expect(res.statusCode).toBe(404);
      expect(app.alertEngine.get(bj)?.acknowledged).toBeNull();
      expect(notifier.events).toEqual([]);
    });

    it('refuses acknowledgements from roles that may not (viewer, executive)', async () => {
      expect((await req('POST', `/alerts/${gd}/ack`, TOKENS.viewer, {})).statusCode).toBe(403);
      expect((await req('POST', `/alerts/${gd}/ack`, TOKENS.executive, {})).statusCode).toBe(403);
    });

    it('refuses a comment that is not text, naming the field', async () => {
      const res = await req('POST', `/alerts/${gd}/ack`, TOKENS.managerGD, { comment: 42 });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.message).toMatch(/^comment: /);
    });

    it('lets the GD manager acknowledge GD: who, when, comment; one update; audited', async () => {
      notifier.clear();
      const res = await req('POST', `/alerts/${gd}/ack`, TOKENS.managerGD, { comment: 'trunk to Shenzhen down, on it' });
      expect(res.statusCode, res.body).toBe(200);
      const ack = { by: 'gd-manager', at: new Date(NOW * 1000).toISOString(), comment: 'trunk to Shenzhen down, on it' };
      expect(res.json().alert.acknowledged).toEqual(ack);
      expect(notifier.events.map((e) => [e.type, e.instance.id, e.instance.acknowledged])).toEqual([['update', gd, ack]]);
      // The list shows it, from the store.
      const listed = (await req('GET', '/alerts', TOKENS.managerGD)).json().alerts[0];
      expect(listed.acknowledged).toEqual(ack);
      const audit = await store.query<{ actor: string; target: string; region: string }>(sql`
        SELECT actor, target, region FROM ${store.table('audit_log')} WHERE action = 'alert.acknowledge'`);
      expect(audit).toEqual([{ actor: 'gd-manager', target: gd, region: 'GD' }]);
      // The supervisor may acknowledge too (BJ, unscoped); acknowledging again changes nothing.
      expect((await req('POST', `/alerts/${bj}/ack`, TOKENS.supervisor, {})).statusCode).toBe(200);
      notifier.clear();
      const again = await req('POST', `/alerts/${bj}/ack`, TOKENS.admin, {});
      expect(again.json().alert.acknowledged.by).toBe('supervisor');
      expect(notifier.events).toEqual([]);
    });

    it('answers 409 for an instance that is not firing, and 404 for one never written', async () => {
      const pending = await req('POST', `/alerts/${gdSlow}/ack`, TOKENS.managerGD, {});
      expect(pending.statusCode).toBe(409);
      expect(pending.json().error.message).toBe('only a firing alert can be acknowledged; this one is pending');
      // Every other region is an ok instance in memory that was never written: not found in the store.
      const sh = instanceId('answer-rate', { rule: 'answer-rate', region: 'SH' });
      expect((await req('POST', `/alerts/${sh}/ack`, TOKENS.admin, {})).statusCode).toBe(404);
    });
  });

  describe('silences', () => {
    let gdSilence = '';
    let bjSilence = '';

    it('lets the GD manager silence GD, but not BJ or everything', async () => {
      const ok = await req('POST', '/silences', TOKENS.managerGD, { matchers: ['region=GD', 'severity=warning'], duration: '1h', reason: 'known outage' });
      expect(ok.statusCode, ok.body).toBe(201);
      gdSilence = ok.json().silence.id;
      expect(ok.json().silence).toMatchObject({
        matchers: ['region=GD', 'severity=warning'], author: 'gd-manager', reason: 'known outage', state: 'active',
        startsAt: new Date(NOW * 1000).toISOString(), endsAt: new Date((NOW + 3600) * 1000).toISOString(),
      });
      expect((await req('POST', '/silences', TOKENS.managerGD, { matchers: ['region=BJ'], duration: '1h', reason: 'x' })).statusCode).toBe(403);
      expect((await req('POST', '/silences', TOKENS.managerGD, { matchers: ['rule=answer-rate'], duration: '1h', reason: 'x' })).statusCode).toBe(403);
      const admin = await req('POST', '/silences', TOKENS.admin, { matchers: ['region=BJ'], endsAt: '2026-11-30T12:00:00+08:00', reason: 'PBX work' });
      expect(admin.statusCode).toBe(201);
      bjSilence = admin.json().silence.id;
    });

    it('refuses a bad silence with the field named', async () => {
      const res = await req('POST', '/silences', TOKENS.admin, { matchers: ['region~GD'], duration: '1h', reason: 'x' });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.details.problems).toEqual(['matchers/0: "region~GD" is not a matcher (label=value, label!=value, label=~regex, label!~regex)']);
      const open = await req('POST', '/silences', TOKENS.admin, { matchers: ['region=GD'], reason: 'x' });
      expect(open.json().error.details.problems).toEqual(['endsAt: required (or duration); only a maintenance window (schedule) may be open-ended']);
      const everything = await req('POST', '/silences', TOKENS.admin, { matchers: ['region=~.*'], duration: '1h', reason: 'x' });
      expect(everything.json().error.details.problems[0]).toMatch(/^matchers: at least one matcher/);
    });

    it('marks matching instances silenced (severity matchers see the current severity)', () => {
      // GD is critical: the GD silence only mutes warnings.
      expect(app.alertEngine.get(gd)?.silencedBy).toEqual([]);
      expect(app.alertEngine.get(bj)?.silencedBy).toEqual([bjSilence]);
    });

    it('shows the GD manager only GD silences; admins see all', async () => {
      expect((await req('GET', '/silences', TOKENS.managerGD)).json().silences.map((s: { id: string }) => s.id)).toEqual([gdSilence]);
      expect((await req('GET', '/silences', TOKENS.admin)).json().silences.map((s: { id: string }) => s.id).sort()).toEqual([bjSilence, gdSilence].sort());
      expect((await req('GET', '/silences', TOKENS.viewer)).statusCode).toBe(403);
    });

    it('lets only those who see a silence end it', async () => {
      expect((await req('DELETE', `/silences/${bjSilence}`, TOKENS.managerGD)).statusCode).toBe(404);
      const res = await req('DELETE', `/silences/${gdSilence}`, TOKENS.managerGD);
      expect(res.statusCode).toBe(200);
      expect(res.json().silence).toMatchObject({ id: gdSilence, state: 'expired', expiredAt: new Date(NOW * 1000).toISOString() });
      expect((await req('GET', '/silences', TOKENS.managerGD)).json().silences).toEqual([]);
      expect((await req('GET', '/silences?state=all', TOKENS.managerGD)).json().silences.map((s: { id: string }) => s.id)).toEqual([gdSilence]);
    });
  });

  describe('rules', () => {
    it('lists rules with their source and health for readers', async () => {
      const res = await req('GET', '/rules', TOKENS.viewer);
      expect(res.statusCode).toBe(200);
      expect(res.json().rules.map((r: { id: string }) => r.id)).toEqual(['abandon-slow', 'answer-rate']);
      expect(res.json().rules[1]).toEqual(expect.objectContaining({
        id: 'answer-rate', kind: 'kpi', source: 'config', enabled: true, definition: answerRate, updatedAt: null, updatedBy: null,
        health: { state: 'ok', message: null, errors: 0, lastEvaluatedAt: new Date(NOW * 1000).toISOString(), lastDurationMs: expect.any(Number) },
      }));
    });

    it('lets only admins change rules', async () => {
      expect((await req('POST', '/rules', TOKENS.managerGD, csat)).statusCode).toBe(403);
      expect((await req('POST', '/rules/validate', TOKENS.viewer, csat)).statusCode).toBe(403);
      expect((await req('GET', '/rules/export', TOKENS.executive)).statusCode).toBe(403);
    });

    it('validates a rule, naming each field that is wrong', async () => {
      // Structure first (a JSON Schema per kind); the checks that need the catalogue only run on a well-formed rule.
      const res = await req('POST', '/rules/validate', TOKENS.admin, { ...answerRate, id: 'Answer Rate', window: 'soon', when: 'under' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        valid: false,
        problems: [
          'id: "Answer Rate" is not a rule id (lower-case letters, digits, - and _, at most 64)',
          'window: not a duration: "soon" (e.g. 30s, 15m, 2h, 1d)',
          'when: must be equal to one of the allowed values (below, above)',
        ],
      });
      const structural = await req('POST', '/rules/validate', TOKENS.admin, { ...answerRate, thresholds: { warning: '95%' }, colour: 'red' });
      expect(structural.json().problems).toEqual(['(rule): must NOT have additional properties "colour"', 'thresholds/warning: must be number']);
      const semantic = await req('POST', '/rules/validate', TOKENS.admin, { ...answerRate, thresholds: { warning: 0.9, critical: 0.95 }, clear: { warning: 0.85 }, by: ['planet'], overrides: { ZZ: {} } });
      expect(semantic.json().problems).toEqual([
        'by: answer_rate cannot be cut by planet; valid: region, queue, channel, agent',
        'thresholds/critical: must not be above warning (0.9) for a "below" rule',
        'clear/warning: must be at or above thresholds/warning (0.9): a "below" rule recovers upwards',
        'overrides/ZZ: unknown region "ZZ"',
      ]);
      expect((await req('POST', '/rules/validate', TOKENS.admin, csat)).json()).toEqual({ valid: true, problems: [] });
    });

    it('creates a rule (201), refuses a duplicate (409) and a bad one (400 with the problems)', async () => {
      const created = await req('POST', '/rules', TOKENS.admin, csat);
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json().rule).toMatchObject({ id: 'csat', source: 'api', definition: csat, updatedBy: 'bootstrap-admin' });
      expect((await req('POST', '/rules', TOKENS.admin, csat)).statusCode).toBe(409);
      const bad = await req('POST', '/rules', TOKENS.admin, { ...csat, id: 'csat-2', kpi: 'happiness' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.details.problems[0]).toMatch(/^kpi: unknown KPI "happiness"; valid: offered, answer_rate/);
      expect((await req('PUT', '/rules/nope', TOKENS.admin, { ...csat, id: 'nope' })).statusCode).toBe(404);
      expect((await req('PUT', '/rules/csat', TOKENS.admin, { ...csat, id: 'other' })).statusCode).toBe(400);
    });

    it('exports every rule as YAML and imports YAML (merge, then replace)', async () => {
      const exported = await req('GET', '/rules/export', TOKENS.admin);
      expect(exported.statusCode).toBe(200);
      expect(exported.headers['content-type']).toMatch(/^application\/yaml/);
      expect(parseYaml(exported.body)).toEqual({ rules: [abandonSlow, answerRate, csat] });

      const edited = { ...csat, thresholds: { warning: 0.88 } };
      const fcr = { id: 'fcr', kpi: 'fcr', window: '1h', when: 'below', thresholds: { warning: 0.85 } };
      const yaml = stringifyYaml({ rules: [answerRate, edited, fcr] });
      const merged = await req('POST', '/rules/import', TOKENS.admin, yaml, { 'content-type': 'application/yaml' });
      expect(merged.statusCode, merged.body).toBe(200);
      expect(merged.json()).toEqual({ created: ['fcr'], updated: ['csat'], unchanged: ['answer-rate'], deleted: [] });

      const broken = await req('POST', '/rules/import', TOKENS.admin, stringifyYaml([fcr, { ...fcr, window: '2x' }]), { 'content-type': 'text/yaml' });
      expect(broken.statusCode).toBe(400);
      expect(broken.json().error.details.problems).toEqual(['rules/1/window: not a duration: "2x" (e.g. 30s, 15m, 2h, 1d)']);
      expect((await req('GET', '/rules/fcr', TOKENS.viewer)).json().rule.definition).toEqual(fcr);
      const unparseable = await req('POST', '/rules/import', TOKENS.admin, 'rules: [a, b', { 'content-type': 'application/yaml' });
      expect(unparseable.statusCode).toBe(400);
      expect(unparseable.json().error.code).toBe('SQM_UNPARSEABLE_BODY');

      const replaced = await req('POST', '/rules/import?mode=replace', TOKENS.admin, stringifyYaml([answerRate, fcr]), { 'content-type': 'application/yaml' });
      expect(replaced.json()).toEqual({ created: [], updated: [], unchanged: ['answer-rate', 'fcr'], deleted: ['abandon-slow', 'csat'] });
      const audit = await store.query<{ action: string }>(sql`
        SELECT action FROM ${store.table('audit_log')} WHERE action LIKE 'rule%' ORDER BY seq`);
      expect(audit.map((a) => a.action)).toEqual(['rule.create', 'rules.export', 'rules.import', 'rules.import']);
    });

    it('keeps API rule changes across a restart; a deleted config rule stays deleted', async () => {
      const deleted = await req('DELETE', '/rules/answer-rate', TOKENS.admin);
      expect(deleted.json()).toEqual({ deleted: 'answer-rate', resolved: 2 });
      const restarted = await buildTestApp(store, { config, now });
      try {
        const res = await restarted.inject({ method: 'GET', url: '/api/v1/rules', headers: bearer(TOKENS.viewer) });
        expect(res.json().rules.map((r: { id: string; source: string }) => `${r.id}:${r.source}`)).toEqual(['fcr:api']);
        const active = await restarted.inject({ method: 'GET', url: '/api/v1/alerts', headers: bearer(TOKENS.viewer) });
        expect(active.json().alerts).toEqual([]);
      } finally {
        await restarted.close();
      }
    });
  });
});
