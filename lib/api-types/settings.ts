/** The installation's settings (`/api/settings`). */
import type { ConsensusSettings } from '../consensus/rule.ts';

/** The installation's settings. `votesMax` follows `votesRequired` until an admin sets it. */
export interface Settings extends ConsensusSettings {
  /** Whether experts see the model's prediction before voting (recorded on every vote either way). */
  showModelHint: boolean;
  /** New resolved labels between automatic retrainings (issue 7). */
  retrainEvery: number;
}

/** `PUT /api/settings`: any subset. */
export type SettingsPatch = Partial<Settings>;
