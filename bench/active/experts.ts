/**
 * The simulated panel of the replay, from lib/synth/experts.ts: PANEL_SIZE experts with varied sensitivity,
 * specificity, personal thresholds and judgement noise (so borderline images split them), the last one careless
 * (votes without looking 40 % of the time). Each image is asked of up to `depth` of them, in a seeded order.
 * The lead decides ties with the truth (the paper's ground truth is its most experienced expert's call); with
 * the replay's consensus settings (2 of at most 3 votes) no tie can occur.
 */
import { expertPanel, simulateVote } from '../../lib/synth/experts.ts';
import type { ActiveDataset } from './data.ts';
import { preDrawPanel } from './panel.ts';
import type { PreDrawnPanel } from './panel.ts';

export const PANEL_SIZE = 5;

export const PANEL_DESCRIPTION =
  `lib/synth/experts.ts: expertPanel(seed, ${PANEL_SIZE}, { careless: true }) — sensitivities 0.86–0.96, specificities ` +
  '0.90–0.98, personal thresholds 0.5 ± 0.06 and judgement noise, so borderline images split the panel; the fifth ' +
  'expert votes without looking 40 % of the time. Each image is asked of up to 3 of the 5, in a seeded order; ' +
  'the k-th vote an image receives is fixed per seed';

export function makePanel(data: ActiveDataset, depth: number, seed: number): PreDrawnPanel {
  const experts = expertPanel(seed, PANEL_SIZE, { careless: true });
  return preDrawPanel(
    data.rows.length,
    experts.map((profile) => ({
      id: profile.name,
      verdict: (i: number) =>
        simulateVote(seed, profile, { key: data.rows[i].row.file, anomalies: data.rows[i].row.anomalies })
          .verdict,
    })),
    depth,
    seed,
    (i) => (data.truth[i] ? 'abnormal' : 'normal'),
  );
}
