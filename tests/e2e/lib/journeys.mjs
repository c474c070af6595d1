// Helpers for the journey e2e tests (tests/e2e/journeys.test.mjs,
// tests/e2e/journey_crash.test.mjs): a copy of the server's virtual clock,
// events sent at that clock's time, and readers for a user's journey steps
// and queued messages.
//
//   const j = journeyKit(srv, '2026-03-02T10:00:00+09:00');
//   await j.create('welcome', def); await j.publish('welcome');
//   await j.track('u1', 'Signed Up');           // timestamp = the virtual clock
//   await j.advance({ days: 2 });
//   (await j.steps('u1', 'welcome')).map((s) => s.node)
//
// The virtual clock (CONVENTIONS §0) only moves when told, so the kit keeps the
// time it last set and stamps every event with it: the engine and a simulation of
// the same events then see the same times.

import assert from 'node:assert/strict';

export const DAY = 86400000;
export const HOUR = 3600000;
export const MINUTE = 60000;

/** RFC 3339 UTC with milliseconds, as the API prints times. */
export const iso = (ms) => new Date(ms).toISOString();
/** A local time in Seoul ("2026-03-02T22:00") as epoch ms. */
export const kst = (local) => Date.parse(`${local}+09:00`);

export function expectStatus(r, status, what = '') {
  assert.equal(r.status, status, `${what} → ${r.status} ${r.text}`);
  return r.body;
}

const UNITS = { weeks: 7 * DAY, days: DAY, hours: HOUR, minutes: MINUTE };
export function durationMs(d) {
  let ms = 0;
  for (const [k, v] of Object.entries(d)) ms += UNITS[k] * v;
  return ms;
}

/** A seeded pseudo-random generator (mulberry32): the same seed, the same run. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    chance: (p) => next() < p,
  };
}

export function journeyKit(srv, start) {
  const clock = { now: Date.parse(start) };

  const kit = {
    clock,
    get now() { return clock.now; },

    /** Moves the virtual clock; the server answers once everything due is done. */
    async advance(d) {
      const r = await srv.api('/api/v1/_clock', { method: 'POST', body: { advance: d } });
      expectStatus(r, 200, `advance the clock by ${JSON.stringify(d)}`);
      clock.now = Date.parse(r.body.now);
      return clock.now;
    },
    /** Sets the virtual clock to ms (never backwards). */
    async setTo(ms) {
      const r = await srv.api('/api/v1/_clock', { method: 'POST', body: { set: iso(ms) } });
      expectStatus(r, 200, `set the clock to ${iso(ms)}`);
      clock.now = Date.parse(r.body.now);
      assert.equal(clock.now, ms, 'the clock is where it was set');
      return clock.now;
    },
    /** The next day's local time hh:mm in Seoul, strictly after now. */
    async toNextLocal(hhmm = '10:00') {
      const local = new Date(clock.now + 9 * HOUR); // Seoul has no DST
      const day = local.toISOString().slice(0, 10);
      let t = kst(`${day}T${hhmm}`) + DAY;
      while (t - DAY > clock.now) t -= DAY;
      return kit.setTo(t);
    },
    /** Let the engine catch up: every stored event applied (a read barrier). */
    async barrier() {
      expectStatus(await srv.api('/api/v1/messages?limit=1'), 200, 'read barrier');
    },
    /** A zero advance: due timers fired and emitted events applied. */
    async settle() {
      return kit.advance({ minutes: 0 });
    },

    /** A track event at the virtual clock's time; waits until the engine applied it. */
    async track(userId, event, properties = {}, { wait = true } = {}) {
      const msg = { userId, event, properties, timestamp: iso(clock.now) };
      expectStatus(await srv.track('/v1/track', msg), 200, `track ${event} for ${userId}`);
      if (wait) await kit.barrier();
      return msg;
    },
    async identify(userId, traits, { wait = true } = {}) {
      const msg = { type: 'identify', userId, traits, timestamp: iso(clock.now) };
      expectStatus(await srv.track('/v1/identify', msg), 200, `identify ${userId}`);
      if (wait) await kit.barrier();
      return msg;
    },

    async template(id, channel, body, name = id) {
      const r = await srv.api('/api/v1/templates', { method: 'POST', body: { id, name, channel, locale: 'ko-KR', body } });
      expectStatus(r, 201, `create template ${id}`);
      return r.body;
    },
    async create(id, definition, name) {
      const body = { id, definition };
      if (name) body.name = name;
      const r = await srv.api('/api/v1/journeys', { method: 'POST', body });
      expectStatus(r, 201, `create journey ${id}`);
      return r.body;
    },
    async publish(id) {
      const r = await srv.api(`/api/v1/journeys/${id}/publish`, { method: 'POST' });
      expectStatus(r, 200, `publish ${id}`);
      return r.body;
    },
    async createLive(id, definition) {
      await kit.create(id, definition);
      return kit.publish(id);
    },
    async journey(id) {
      return expectStatus(await srv.api(`/api/v1/journeys/${id}`), 200, `GET journey ${id}`);
    },
    async stats(id) {
      return expectStatus(await srv.api(`/api/v1/journeys/${id}/stats`), 200, `stats of ${id}`).nodes;
    },

    /** The user's steps (optionally of one journey), oldest first. */
    async steps(userId, journeyId) {
      const b = expectStatus(await srv.api(`/api/v1/users/${encodeURIComponent(userId)}/journeys`), 200, `journeys of ${userId}`);
      const steps = b.steps.slice().reverse(); // the API answers newest first
      return journeyId ? steps.filter((s) => s.journey_id === journeyId) : steps;
    },
    async path(userId, journeyId) {
      return (await kit.steps(userId, journeyId)).map((s) => s.node);
    },
    /** The user's queued messages (optionally of one journey), oldest first, every page. */
    async messages(userId, journeyId) {
      const out = [];
      let cursor = null;
      for (let page = 0; page < 1000; page++) {
        const qs = new URLSearchParams({ limit: '1000' });
        if (userId) qs.set('user_id', userId);
        if (journeyId) qs.set('journey_id', journeyId);
        if (cursor) qs.set('cursor', cursor);
        const b = expectStatus(await srv.api(`/api/v1/messages?${qs}`), 200, 'messages');
        out.push(...b.data);
        cursor = b.next_cursor;
        if (!cursor) return out.reverse();
      }
      throw new Error('messages: too many pages');
    },
    /** The node of each queued message, oldest first. */
    async sent(userId, journeyId) {
      return (await kit.messages(userId, journeyId)).map((m) => m.journey.node);
    },
    async timeline(userId) {
      const b = expectStatus(await srv.api(`/api/v1/users/${encodeURIComponent(userId)}/events?limit=1000`), 200, 'timeline');
      return b.data.slice().reverse();
    },
    async simulate(journeyId, body) {
      return expectStatus(await srv.api(`/api/v1/journeys/${journeyId}/simulate`, { method: 'POST', body }), 200, `simulate ${journeyId}`);
    },
  };
  return kit;
}
