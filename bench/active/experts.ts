/** Placeholder until lib/synth/experts.ts lands. */
import type { ActiveDataset } from './data.ts';
import type { PreDrawnPanel } from './panel.ts';
export const PANEL_DESCRIPTION = 'TODO';
export function makePanel(_data: ActiveDataset, _depth: number, _seed: number): PreDrawnPanel {
  throw new Error('lib/synth/experts.ts has not landed yet');
}
