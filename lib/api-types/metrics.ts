/** Agreement statistics (`GET /api/metrics/agreement`). */
import type { AnomalyCode } from '../anomaly-types.ts';
import type { UserRef } from './users.ts';

export interface AgreementDto {
  /** Images with at least one current vote. */
  images: number;
  /** Current votes (the latest per expert and image). */
  votes: number;
  fleissKappa: number | null;
  /** Which images Fleiss' kappa used: those sharing the most common vote count (see docs/consensus.md). */
  fleiss: { images: number; votesPerImage: number; excluded: number };
  krippendorffAlpha: number | null;
  perExpert: {
    user: UserRef;
    votes: number;
    /** Against the consensus, the expert's own vote included (optimistic for small panels). */
    agreementWithConsensus: number | null;
    cohenKappaWithConsensus: number | null;
    /**
     * Against the majority of the OTHER experts on the same images (ties among them left out): the figure the
     * screens show (lib/consensus/reliability.ts says why).
     */
    withOthers: { images: number; agreement: number | null; kappa: number | null };
    dawidSkene: { sensitivity: number; specificity: number; accuracy: number };
    /** The Dawid–Skene measures on which the expert falls below the rest of the panel (lib/consensus/reliability.ts). */
    belowPanel: ('sensitivity' | 'specificity')[];
  }[];
  perAnomaly: { code: AnomalyCode; fleissKappa: number | null; krippendorffAlpha: number | null }[];
  dawidSkene: { prior: number; iterations: number; converged: boolean };
}
