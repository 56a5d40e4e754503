// The soak's judgement of a SERVFAIL for the forwarded name: right when the
// upstream was away at some moment seamark could have been waiting on it for
// that query, wrong otherwise, and said so with the facts of the run.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UpstreamOutages } from './outages.js';

const RUN_START = 1000;
/** `seconds` into the run, as performance.now(). */
const s = (seconds: number) => RUN_START + seconds * 1000;

describe('soak: SERVFAIL for the forwarded name', () => {
  test('a query in flight when the upstream is told to stop may get SERVFAIL, before the stop is complete too', () => {
    // The CI case: the outage began at 11.3 s; dnsmasq was still exiting when the query left and when its SERVFAIL came.
    const outages = new UpstreamOutages(1000, 500, RUN_START);
    outages.begin(s(11.3));
    assert.equal(outages.judgeServfail(s(11.35), s(12.35)), undefined);
    // Sent just before the stop, unanswered by a dnsmasq that was dying.
    assert.equal(outages.judgeServfail(s(11.25), s(12.3)), undefined);
  });

  test('while the upstream is away, and for a query that joined an exchange begun before it was back', () => {
    const outages = new UpstreamOutages(1000, 500, RUN_START);
    const outage = outages.begin(s(11.3));
    assert.equal(outages.judgeServfail(s(14), s(15)), undefined);
    outages.end(outage, s(16.4));
    assert.equal(outages.judgeServfail(s(16.9), s(17.3)), undefined);
  });

  test('with no outage yet, a SERVFAIL is wrong and the message says there was none', () => {
    const outages = new UpstreamOutages(1000, 500, RUN_START);
    const why = outages.judgeServfail(s(11.4), s(12.3));
    assert.equal(why, 'SERVFAIL for a query sent at 11.4 s, answered 900 ms later, with the upstream up all that time (no upstream outage before it)');
    // An outage that began after the SERVFAIL left does not excuse it.
    outages.begin(s(12.5));
    assert.notEqual(outages.judgeServfail(s(11.4), s(12.3)), undefined);
  });

  test('a query sent well after the upstream came back must be answered', () => {
    const outages = new UpstreamOutages(1000, 500, RUN_START);
    outages.end(outages.begin(s(11.3)), s(16.4));
    const why = outages.judgeServfail(s(18), s(19));
    assert.equal(why, 'SERVFAIL for a query sent at 18.0 s, answered 1000 ms later, with the upstream up all that time (the last upstream outage was 11.3 s–16.4 s)');
  });

  test('a SERVFAIL from the failure cache is right within forwardFailureTtl of a failed exchange, not after', () => {
    const outages = new UpstreamOutages(1000, 500, RUN_START, 1000);
    outages.end(outages.begin(s(11.3)), s(16.4));
    // An exchange begun at 16.3 s failed at 17.3 s; its failure is served until 18.3 s.
    assert.equal(outages.judgeServfail(s(18.2), s(18.2)), undefined);
    assert.notEqual(outages.judgeServfail(s(19.5), s(19.5)), undefined);
  });
});
