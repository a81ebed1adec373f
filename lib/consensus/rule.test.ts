import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  decideConsensus,
  votesStillNeeded,
  majorityAnomalies,
  sortAnomalies,
  settingsProblem,
  type RuleVote,
  type Verdict,
} from './rule.ts';

const n = (...anomalies: string[]): RuleVote => ({ verdict: 'normal', anomalies });
const a = (...anomalies: string[]): RuleVote => ({ verdict: 'abnormal', anomalies });
const votes = (pattern: string): RuleVote[] => [...pattern].map((c) => (c === 'a' ? a() : n()));

describe('decideConsensus with the default settings (3 votes, no extra overlap)', () => {
  test('an image with fewer than 3 votes is pending and says how many votes it still needs', () => {
    assert.deepEqual(decideConsensus([], null), {
      status: 'pending',
      votesNeeded: 3,
      counts: { normal: 0, abnormal: 0 },
    });
    assert.deepEqual(decideConsensus(votes('na'), null), {
      status: 'pending',
      votesNeeded: 1,
      counts: { normal: 1, abnormal: 1 },
    });
  });

  test('three equal verdicts resolve unanimously', () => {
    const outcome = decideConsensus(votes('aaa'), null);
    assert.equal(outcome.status, 'resolved');
    assert.equal(outcome.status === 'resolved' && outcome.method, 'unanimous');
    assert.equal(outcome.status === 'resolved' && outcome.verdict, 'abnormal');
  });

  test('two against one resolves by strict majority', () => {
    assert.deepEqual(decideConsensus([n(), a('bubbles'), n()], null), {
      status: 'resolved',
      verdict: 'normal',
      anomalies: [],
      method: 'majority',
      counts: { normal: 2, abnormal: 1 },
    });
  });

  test('a tie (two against two, after a fourth vote) goes to the lead', () => {
    assert.deepEqual(decideConsensus(votes('naan'), null), {
      status: 'needs_lead',
      reason: 'tie',
      counts: { normal: 2, abnormal: 2 },
    });
  });

  test('a vote beyond votesRequired recomputes: three against two is still a majority', () => {
    const outcome = decideConsensus(votes('aanna'), null);
    assert.equal(outcome.status === 'resolved' && outcome.verdict, 'abnormal');
  });
});

describe('anomalies in the consensus', () => {
  test('a type is in the consensus when a strict majority of all voters marked it', () => {
    const outcome = decideConsensus(
      [a('scratches', 'bubbles'), a('bubbles'), n('scratches'), n('smudges')],
      null,
      { votesRequired: 3, votesMax: 3 },
    );
    // 4 voters: bubbles 2/4 and scratches 2/4 are not strict majorities.
    assert.equal(outcome.status, 'needs_lead');
    assert.deepEqual(majorityAnomalies([a('bubbles', 'scratches'), a('bubbles'), n('scratches')]), [
      'scratches',
      'bubbles',
    ]);
  });

  test('normal voters count in the denominator and may contribute minor findings', () => {
    const outcome = decideConsensus([n('lines'), n('lines'), a('missing_ink')], null);
    assert.deepEqual(outcome.status === 'resolved' && [outcome.verdict, outcome.anomalies], [
      'normal',
      ['lines'],
    ]);
  });

  test('a code repeated inside one vote counts once', () => {
    assert.deepEqual(majorityAnomalies([a('lines', 'lines'), a(), n()]), []);
  });
});

describe('anomaly order', () => {
  test('follows the paper (section 2.2), unknown codes last by code, duplicates dropped', () => {
    assert.deepEqual(sortAnomalies(['zz', 'ink_entry_exit', 'bubbles', 'scratches', 'bubbles', 'aa']), [
      'scratches',
      'bubbles',
      'ink_entry_exit',
      'aa',
      'zz',
    ]);
  });
});

describe('lead resolution', () => {
  test('stands over the votes, including later ones, and lists its anomalies once, in the paper order', () => {
    const resolution = { verdict: 'abnormal' as Verdict, anomalies: ['smudges', 'bubbles', 'smudges'] };
    for (const pattern of ['', 'n', 'nnn', 'nnnnn']) {
      assert.deepEqual(decideConsensus(votes(pattern), resolution), {
        status: 'resolved',
        verdict: 'abnormal',
        anomalies: ['smudges', 'bubbles'],
        method: 'lead',
        counts: { normal: pattern.length, abnormal: 0 },
      });
      assert.equal(votesStillNeeded(votes(pattern), resolution), 0);
    }
  });
});

describe('adaptive overlap (votesMax > votesRequired)', () => {
  const settings = { votesRequired: 3, votesMax: 5 };
  // Each row: current verdicts → expected status / verdict / votes still needed.
  const table: [string, string, number][] = [
    ['aaa', 'resolved:abnormal:unanimous', 0],
    ['aan', 'pending', 1], // 2–1: two more votes could make it 2–3, so ask; one more 'a' would settle 3–1
    ['aana', 'resolved:abnormal:majority', 0], // 3–1: the fifth vote cannot overturn it
    ['aann', 'pending', 1], // 2–2 with one vote left before votesMax
    ['aanna', 'resolved:abnormal:majority', 0],
    ['aannn', 'resolved:normal:majority', 0],
    ['nn', 'pending', 1],
    ['na', 'pending', 2], // after a third vote it will be 2–1, which is not yet settled
  ];
  for (const [pattern, expected, needed] of table) {
    test(`${pattern} → ${expected}, ${needed} more vote(s)`, () => {
      const outcome = decideConsensus(votes(pattern), null, settings);
      const summary =
        outcome.status === 'resolved' ? `resolved:${outcome.verdict}:${outcome.method}` : outcome.status;
      assert.equal(summary, expected);
      assert.equal(votesStillNeeded(votes(pattern), null, settings), needed);
      if (outcome.status === 'pending') assert.equal(outcome.votesNeeded, needed);
    });
  }

  test('with an even votesMax a tie at votesMax goes to the lead', () => {
    const outcome = decideConsensus(votes('anan'), null, { votesRequired: 3, votesMax: 4 });
    assert.equal(outcome.status, 'needs_lead');
  });

  test('an image split at votesRequired with votesMax = votesRequired is decided at once', () => {
    assert.equal(decideConsensus(votes('ana'), null, { votesRequired: 3, votesMax: 3 }).status, 'resolved');
    assert.equal(decideConsensus(votes('ana'), null, { votesRequired: 3, votesMax: 5 }).status, 'pending');
  });
});

describe('settings validation', () => {
  test('rejects votesRequired below 1, non-integers and votesMax below votesRequired', () => {
    assert.equal(settingsProblem({ votesRequired: 3, votesMax: 3 }), null);
    assert.match(settingsProblem({ votesRequired: 0, votesMax: 3 }) ?? '', /votesRequired/);
    assert.match(settingsProblem({ votesRequired: 2.5, votesMax: 3 }) ?? '', /votesRequired/);
    assert.match(settingsProblem({ votesRequired: 3, votesMax: 2 }) ?? '', /votesMax/);
    assert.throws(() => decideConsensus([], null, { votesRequired: 3, votesMax: 2 }), RangeError);
  });
});

describe('rule properties over every vote sequence up to 7 votes', () => {
  test('votesStillNeeded votes for one side always settle a pending image, and fewer never do', () => {
    for (const [votesRequired, votesMax] of [
      [1, 1],
      [2, 2],
      [2, 3],
      [3, 3],
      [3, 4],
      [3, 5],
      [4, 7],
    ]) {
      const settings = { votesRequired, votesMax };
      for (let len = 0; len <= 7; len++) {
        for (let mask = 0; mask < 1 << len; mask++) {
          const current = [...Array(len)].map((_, i) => ((mask >> i) & 1 ? a() : n()));
          const outcome = decideConsensus(current, null, settings);
          const needed = votesStillNeeded(current, null, settings);
          assert.equal(needed === 0, outcome.status !== 'pending');
          if (outcome.status === 'resolved') {
            // A resolved verdict always holds a strict majority of the votes.
            assert.ok(2 * outcome.counts[outcome.verdict] > len);
          }
          if (needed > 0) {
            const settles = (k: number) =>
              (['normal', 'abnormal'] as const).some(
                (v) =>
                  decideConsensus([...current, ...votes(v[0].repeat(k))], null, settings).status !==
                  'pending',
              );
            assert.ok(settles(needed));
            assert.ok(needed === 1 || !settles(needed - 1));
            assert.ok(len + needed <= votesMax, 'never asks beyond votesMax');
          }
        }
      }
    }
  });
});
