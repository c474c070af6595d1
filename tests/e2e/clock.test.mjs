// The virtual clock: `serve --virtual-clock` and POST /api/v1/_clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';

test('virtual clock: events get its time, it moves only when told, never backwards', async () => {
  const srv = await startServer({ extraArgs: ['--virtual-clock', '2026-03-02T10:00:00+09:00'] });
  try {
    let r = await srv.track('/v1/track', { userId: 'vc-1', event: 'Signed Up' });
    assert.equal(r.status, 200);
    r = await srv.api('/api/v1/users/vc-1/events');
    assert.equal(r.body.data[0].timestamp, '2026-03-02T01:00:00.000Z');
    assert.equal(r.body.data[0].receivedAt, '2026-03-02T01:00:00.000Z');

    r = await srv.api('/api/v1/_clock', { method: 'POST', body: { advance: { days: 2, hours: 3 } } });
    assert.equal(r.status, 200);
    assert.equal(r.body.now, '2026-03-04T04:00:00.000Z');
    r = await srv.api('/api/v1/_clock', { method: 'POST', body: { set: '2026-03-05T09:00:00+09:00' } });
    assert.equal(r.body.now, '2026-03-05T00:00:00.000Z');
    r = await srv.api('/api/v1/_clock', { method: 'POST', body: { set: '2026-03-01T00:00:00Z' } });
    assert.equal(r.status, 422);
    assert.equal(r.body.error.code, 'clock_backwards');
    r = await srv.api('/api/v1/_clock', { method: 'POST', body: { advance: { fortnights: 1 } } });
    assert.equal(r.status, 422);
    r = await srv.track('/v1/track', { userId: 'vc-1', event: 'Order Completed' });
    r = await srv.api('/api/v1/users/vc-1/events');
    assert.equal(r.body.data[0].timestamp, '2026-03-05T00:00:00.000Z');
  } finally {
    await srv.close();
  }
});

test('without --virtual-clock the clock route does not exist', async () => {
  const srv = await startServer();
  try {
    const r = await srv.api('/api/v1/_clock', { method: 'POST', body: { advance: { days: 1 } } });
    assert.equal(r.status, 404);
  } finally {
    await srv.close();
  }
});
