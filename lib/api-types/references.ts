/** Reference images (`/api/references`, `/api/images/:id/reference`): ground truth mixed blind into the queue. */
import type { Verdict } from '../domain.ts';
import type { UserRef } from './users.ts';

/** One current reference: the answer its mark fixed, and how experts did on it. */
export interface ReferenceDto {
  image: { id: string; name: string; bundle: string; excluded: boolean };
  verdict: Verdict;
  anomalies: string[];
  markedBy: string;
  markedAt: string;
  answers: number;
  correct: number;
}

/** One expert's answers on references: overall and per UTC day (accuracy over time). */
export interface ReferenceAccuracyDto {
  user: UserRef;
  answered: number;
  correct: number;
  /** correct / answered; null before the first answer. */
  accuracy: number | null;
  days: { day: string; answered: number; correct: number }[];
}

/** `GET /api/references` (lead, admin). */
export interface ReferencesDto {
  /** Share of each expert's queue that references take, 0–1 (0: none are mixed in). */
  rate: number;
  references: ReferenceDto[];
  experts: ReferenceAccuracyDto[];
}
