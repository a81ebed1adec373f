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
    agreementWithConsensus: number | null;
    cohenKappaWithConsensus: number | null;
    dawidSkene: { sensitivity: number; specificity: number; accuracy: number };
  }[];
  perAnomaly: { code: AnomalyCode; fleissKappa: number | null; krippendorffAlpha: number | null }[];
  dawidSkene: { prior: number; iterations: number; converged: boolean };
}
