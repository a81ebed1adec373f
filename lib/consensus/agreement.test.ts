import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  fleissKappa,
  fleissKappaOfRatings,
  krippendorffAlphaNominal,
  cohenKappa,
  percentAgreement,
} from './agreement.ts';

const close = (actual: number | null, expected: number, digits = 3) => {
  assert.notEqual(actual, null);
  assert.ok(Math.abs((actual as number) - expected) < 0.5 * 10 ** -digits, `${actual} ≠ ${expected}`);
};

/** Expands a reliability-data row string ('1 2 . 3') into values, '.' being a missing rating. */
const row = (s: string) => s.split(' ').map((x) => (x === '.' ? null : Number(x)));
const columns = (...rows: (number | null)[][]) =>
  rows[0].map((_, u) => rows.map((r) => r[u]).filter((v): v is number => v !== null));

describe('Fleiss kappa', () => {
  test('matches the worked example of Wikipedia "Fleiss\' kappa" (10 subjects × 14 raters, 5 categories): κ ≈ 0.210', () => {
    // https://en.wikipedia.org/wiki/Fleiss%27_kappa#Worked_example — P̄ = 0.378, P_e = 0.213, κ = 0.210.
    const table = [
      [0, 0, 0, 0, 14],
      [0, 2, 6, 4, 2],
      [0, 0, 3, 5, 6],
      [0, 3, 9, 2, 0],
      [2, 2, 8, 1, 1],
      [7, 7, 0, 0, 0],
      [3, 2, 6, 3, 0],
      [2, 5, 3, 2, 2],
      [6, 5, 2, 1, 0],
      [0, 2, 2, 3, 7],
    ];
    close(fleissKappa(table), 0.21);
  });

  test('is 1 for perfect agreement across two used categories and negative for systematic splits', () => {
    assert.equal(
      fleissKappa([
        [3, 0],
        [0, 3],
        [3, 0],
      ]),
      1,
    );
    assert.ok(
      (fleissKappa([
        [1, 1],
        [1, 1],
        [1, 1],
      ]) as number) < 0,
    );
  });

  test('is null (not NaN) when every rating falls in one category, when there are no subjects, or one rater', () => {
    assert.equal(
      fleissKappa([
        [3, 0],
        [3, 0],
      ]),
      null,
    );
    assert.equal(fleissKappa([]), null);
    assert.equal(
      fleissKappa([
        [1, 0],
        [0, 1],
      ]),
      null,
    );
  });

  test('refuses a table whose subjects have different numbers of ratings', () => {
    assert.throws(
      () =>
        fleissKappa([
          [2, 1],
          [1, 1],
        ]),
      /same number of ratings/,
    );
  });

  test('of ratings: uses the largest group of subjects with equal rating counts and reports the rest', () => {
    const result = fleissKappaOfRatings([
      ['n', 'n', 'n'],
      ['a', 'a', 'n'],
      ['a', 'a', 'a'],
      ['a', 'n'], // two ratings: left out
      ['n'], // one rating: left out
    ]);
    assert.equal(result.subjects, 3);
    assert.equal(result.ratersPerSubject, 3);
    assert.equal(result.excluded, 2);
    // Same as the table form: rows (n, a) = (3,0), (1,2), (0,3).
    assert.equal(
      result.kappa,
      fleissKappa([
        [3, 0],
        [1, 2],
        [0, 3],
      ]),
    );
    assert.deepEqual(fleissKappaOfRatings([['n'], []]), {
      kappa: null,
      subjects: 0,
      ratersPerSubject: 0,
      excluded: 2,
    });
  });
});

describe('Krippendorff alpha (nominal)', () => {
  test('matches Krippendorff (2011) section C, 4 observers × 12 units with missing data: α ≈ 0.743', () => {
    // K. Krippendorff, "Computing Krippendorff's Alpha-Reliability", 2011, Annenberg School for Communication
    // (repository.upenn.edu/asc_papers/43), C. "Nominal data, any number of observers, missing data".
    const units = columns(
      row('1 2 3 3 2 1 4 1 2 . . .'),
      row('1 2 3 3 2 2 4 1 2 5 . 3'),
      row('. 3 3 3 2 3 4 2 2 5 1 .'),
      row('1 2 3 3 2 4 4 1 2 5 1 .'),
    );
    close(krippendorffAlphaNominal(units), 0.743);
  });

  test('matches Krippendorff (2011) section A, binary data, 2 observers × 10 units: α ≈ 0.095', () => {
    const units = columns(row('0 1 0 0 0 0 0 0 1 0'), row('1 1 1 0 0 1 0 0 0 0'));
    close(krippendorffAlphaNominal(units), 0.095);
  });

  test('ignores units with a single rating and is 1 for perfect agreement', () => {
    assert.equal(krippendorffAlphaNominal([['a', 'a'], ['n', 'n', 'n'], ['a']]), 1);
  });

  test('is null when only one value occurs or nothing is pairable', () => {
    assert.equal(
      krippendorffAlphaNominal([
        ['a', 'a'],
        ['a', 'a', 'a'],
      ]),
      null,
    );
    assert.equal(krippendorffAlphaNominal([['a'], ['n']]), null);
    assert.equal(krippendorffAlphaNominal([]), null);
  });
});

describe('Cohen kappa and percent agreement', () => {
  const pairs = (cells: [number, number, number, number]) => {
    // cells = [yes/yes, yes(A)/no(B), no(A)/yes(B), no/no]
    const out: [string, string][] = [];
    const kinds: [string, string][] = [
      ['y', 'y'],
      ['y', 'n'],
      ['n', 'y'],
      ['n', 'n'],
    ];
    cells.forEach((count, i) => {
      for (let k = 0; k < count; k++) out.push(kinds[i]);
    });
    return out;
  };

  test('matches the worked example of Wikipedia "Cohen\'s kappa" (50 grant proposals): p_o = 0.7, κ = 0.4', () => {
    // https://en.wikipedia.org/wiki/Cohen%27s_kappa#Simple_example — 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no.
    const data = pairs([20, 5, 10, 15]);
    close(percentAgreement(data), 0.7, 6);
    close(cohenKappa(data), 0.4, 6);
  });

  test('matches Wikipedia\'s "same percentages but different numbers" tables: κ ≈ 0.1304 and 0.2593', () => {
    close(cohenKappa(pairs([45, 15, 25, 15])), 0.1304, 4);
    close(cohenKappa(pairs([25, 35, 5, 35])), 0.2593, 4);
  });

  test('is null when both raters always give the same single label, or there are no pairs', () => {
    assert.equal(cohenKappa(pairs([10, 0, 0, 0])), null);
    assert.equal(cohenKappa([]), null);
    assert.equal(percentAgreement([]), null);
  });

  test('is 0 when one rater always says the same and the other varies (agreement no better than chance)', () => {
    assert.equal(cohenKappa(pairs([5, 0, 5, 0])), 0);
  });
});
