import { DEFAULT_CONSENSUS_SETTINGS } from './consensus/rule.ts';
import type { Settings } from './api-types/settings.ts';

/**
 * The installation's settings when nobody has set them: one home for the API (which stores and serves them) and the
 * model runner (which reads `retrainEvery`). The consensus rule's own defaults come from the rule.
 */
export const SETTINGS_DEFAULTS: Readonly<Settings> = {
  ...DEFAULT_CONSENSUS_SETTINGS,
  showModelHint: false,
  retrainEvery: 25,
};

/** Settings from stored key → value rows, defaults filled in. `votesMax` follows `votesRequired` until set. */
export function settingsFromRows(rows: Map<string, unknown>): Settings {
  const votesRequired = (rows.get('votesRequired') as number | undefined) ?? SETTINGS_DEFAULTS.votesRequired;
  return {
    votesRequired,
    votesMax: (rows.get('votesMax') as number | undefined) ?? votesRequired,
    showModelHint: (rows.get('showModelHint') as boolean | undefined) ?? SETTINGS_DEFAULTS.showModelHint,
    retrainEvery: (rows.get('retrainEvery') as number | undefined) ?? SETTINGS_DEFAULTS.retrainEvery,
  };
}
