import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dawidSkene } from '../consensus/dawid-skene.ts';
import { expertPanel, simulateVote, type ExpertProfile } from './experts.ts';
import { planDataset, type ImageSpec } from './plan.ts';

const SEED = 2022;
const plan = planDataset({ seed: SEED, scale: 'full' });
const truth = (im: ImageSpec) => ({ key: im.file, anomalies: im.anomalies });
const panel = expertPanel(SEED, 5, { careless: true });
const diligent = panel.filter((e) => e.carelessness === 0);
const careless = panel.find((e) => e.carelessness > 0)!;
const votesOf = (e: ExpertProfile) => plan.images.map((im) => simulateVote(SEED, e, truth(im)));
const allVotes = new Map(panel.map((e) => [e.name, votesOf(e)]));

const share = (xs: boolean[]) => xs.filter(Boolean).length / xs.length;
/** Three standard errors of a proportion p estimated from n samples. */
const tol = (p: number, n: number) => 3 * Math.sqrt((p * (1 - p)) / n);

describe('simulated experts', () => {
  test('a vote depends only on seed, expert, image and round, not on the order of voting', () => {
    const e = panel[0];
    const images = plan.images.slice(0, 40);
    const forward = images.map((im) => simulateVote(SEED, e, truth(im)));
    const backward = [...images].reverse().map((im) => simulateVote(SEED, e, truth(im)));
    assert.deepEqual(forward, backward.reverse());
    const rounds = images.map((im) => simulateVote(SEED, e, truth(im), 1));
    assert.notDeepEqual(rounds, forward);
  });

  test('on clean plates an expert says normal at its specificity', () => {
    const clean = plan.images.map((im, i) => [im, i] as const).filter(([im]) => im.anomalies.length === 0);
    for (const e of diligent) {
      const votes = allVotes.get(e.name)!;
      const rate = share(clean.map(([, i]) => votes[i].verdict === 'normal'));
      assert.ok(
        Math.abs(rate - e.specificity) <= tol(e.specificity, clean.length),
        `${e.name}: ${rate} vs ${e.specificity}`,
      );
    }
  });

  test('on clearly severe plates a diligent expert says abnormal nearly at its sensitivity', () => {
    const clear = plan.images.map((im, i) => [im, i] as const).filter(([im]) => im.maxSeverity >= 0.8);
    for (const e of diligent) {
      const votes = allVotes.get(e.name)!;
      const rate = share(clear.map(([, i]) => votes[i].verdict === 'abnormal'));
      // Below the ceiling only by missed anomalies (per-type recall).
      assert.ok(rate <= e.sensitivity + tol(e.sensitivity, clear.length), `${e.name}: ${rate}`);
      assert.ok(rate >= e.sensitivity - 0.12, `${e.name}: ${rate} vs sensitivity ${e.sensitivity}`);
    }
  });

  test('borderline plates split the panel far more often than clear ones', () => {
    const split = (i: number) =>
      new Set(panel.slice(0, 4).map((e) => allVotes.get(e.name)![i].verdict)).size > 1;
    const idx = plan.images.map((im, i) => [im, i] as const);
    const hard = idx.filter(([im]) => im.difficulty >= 0.5).map(([, i]) => split(i));
    const easy = idx.filter(([im]) => im.difficulty === 0).map(([, i]) => split(i));
    assert.ok(share(hard) > 0.5, `hard: ${share(hard)}`);
    assert.ok(share(hard) > 2.5 * share(easy), `hard ${share(hard)} vs easy ${share(easy)}`);
  });

  test('the careless expert agrees with the truth less than every diligent one', () => {
    const accuracy = (e: ExpertProfile) =>
      share(allVotes.get(e.name)!.map((v, i) => v.verdict === plan.images[i].verdict));
    const worstDiligent = Math.min(...diligent.map(accuracy));
    assert.ok(
      accuracy(careless) < worstDiligent - 0.05,
      `careless ${accuracy(careless)} vs ${worstDiligent}`,
    );
  });

  test('an expert weak at a type lists it less often than experts who are not', () => {
    const e = diligent[0];
    const weakType = Object.keys(e.typeRecall)[0] as keyof typeof e.typeRecall;
    const strong = diligent.filter((d) => !(weakType in d.typeRecall));
    const withType = plan.images
      .map((im, i) => [im, i] as const)
      .filter(([im]) => im.anomalies.some((a) => a.type === weakType && a.severity >= 0.5));
    const listed = (x: ExpertProfile) =>
      share(withType.map(([, i]) => allVotes.get(x.name)![i].anomalies.includes(weakType)));
    for (const s of strong)
      assert.ok(listed(e) < listed(s) - 0.15, `${weakType}: ${listed(e)} vs ${listed(s)}`);
  });

  test('on clean plates, majority of three is right as often as independent voters predict', () => {
    // Given the image, experts err independently; on a clean plate expert j is right with probability t_j, so
    // P(majority right) = t1 t2 t3 + Σ (1 − t_k) Π_{j≠k} t_j.
    const [a, b, c] = diligent;
    const p = a.specificity * b.specificity * c.specificity;
    const predicted =
      p +
      (1 - a.specificity) * b.specificity * c.specificity +
      a.specificity * (1 - b.specificity) * c.specificity +
      a.specificity * b.specificity * (1 - c.specificity);
    const clean = plan.images.map((im, i) => [im, i] as const).filter(([im]) => im.anomalies.length === 0);
    const right = clean.map(
      ([, i]) => [a, b, c].filter((e) => allVotes.get(e.name)![i].verdict === 'normal').length >= 2,
    );
    assert.ok(
      Math.abs(share(right) - predicted) <= tol(predicted, clean.length),
      `${share(right)} vs ${predicted}`,
    );
  });

  test('Dawid–Skene recovers each expert’s sensitivity and specificity within 0.06 of the truth', () => {
    const votes = panel.flatMap((e) =>
      allVotes.get(e.name)!.map((v, i) => ({
        imageId: plan.images[i].file,
        expertId: e.name,
        abnormal: v.verdict === 'abnormal',
      })),
    );
    const ds = dawidSkene(votes);
    for (const e of panel) {
      const mine = allVotes.get(e.name)!;
      const sens = share(
        mine.filter((_, i) => plan.images[i].verdict === 'abnormal').map((v) => v.verdict === 'abnormal'),
      );
      const spec = share(
        mine.filter((_, i) => plan.images[i].verdict === 'normal').map((v) => v.verdict === 'normal'),
      );
      const est = ds.experts.find((x) => x.expertId === e.name)!;
      assert.ok(
        Math.abs(est.sensitivity - sens) < 0.06,
        `${e.name} sensitivity ${est.sensitivity} vs ${sens}`,
      );
      assert.ok(
        Math.abs(est.specificity - spec) < 0.06,
        `${e.name} specificity ${est.specificity} vs ${spec}`,
      );
    }
    const majorityRight = share(
      plan.images.map((im, i) => {
        const abnormal = panel.filter((e) => allVotes.get(e.name)![i].verdict === 'abnormal').length;
        return (abnormal >= 3 ? 'abnormal' : 'normal') === im.verdict;
      }),
    );
    const dsRight = share(
      plan.images.map((im) => (ds.posterior.get(im.file)! > 0.5 ? 'abnormal' : 'normal') === im.verdict),
    );
    assert.ok(dsRight >= majorityRight - 0.01, `Dawid–Skene ${dsRight} vs majority ${majorityRight}`);
  });
});
