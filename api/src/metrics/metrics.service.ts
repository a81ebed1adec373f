import { ANOMALY_CODES } from '../../../lib/anomaly-types.ts';
import {
  cohenKappa,
  fleissKappaOfRatings,
  krippendorffAlphaNominal,
  percentAgreement,
} from '../../../lib/consensus/agreement.ts';
import type { Services } from '../http/context.ts';
import { AppError } from '../http/errors.ts';
import { allCurrentVotes } from '../consensus/consensus.repository.ts';
import { currentDawidSkene } from '../consensus/dawid-skene.service.ts';
import { agreementWithOthers, belowPanel } from '../../../lib/consensus/reliability.ts';
import * as repo from './metrics.repository.ts';
import type { AgreementDto } from '../../../lib/api-types/metrics.ts';

/**
 * Agreement over the current votes of included images (of one bundle, when given). Verdict statistics treat normal/abnormal
 * as two nominal categories; per anomaly type, each vote says present/absent. Expert-vs-consensus figures
 * use the resolved images the expert voted on; the expert's own vote is part of that consensus, which
 * makes them optimistic for small panels (documented in docs/consensus.md) — so each expert is also measured
 * against the other experts alone, and marked where their Dawid–Skene sensitivity or specificity falls below
 * the panel (lib/consensus/reliability.ts).
 */
export async function agreement(services: Services, bundle?: string): Promise<AgreementDto> {
  const db = services.db;
  if (bundle !== undefined && !(await repo.bundleExists(db, bundle))) {
    throw new AppError('not_found', `no bundle named "${bundle}"`);
  }
  const [votes, resolved, ds] = await Promise.all([
    allCurrentVotes(db, { bundle, includedOnly: true }),
    repo.resolvedVerdicts(db, bundle),
    currentDawidSkene(db, bundle),
  ]);
  const byImage = new Map<string, typeof votes>();
  for (const v of votes) {
    const list = byImage.get(v.image_id) ?? [];
    list.push(v);
    byImage.set(v.image_id, list);
  }
  const units = [...byImage.values()];
  const fleiss = fleissKappaOfRatings(units.map((u) => u.map((v) => v.verdict)));

  const consensus = new Map(resolved.map((r) => [r.image_id, r.verdict]));
  const byExpert = new Map<string, { votes: number; pairs: [string, string][] }>();
  for (const v of votes) {
    const e = byExpert.get(v.user_id) ?? { votes: 0, pairs: [] };
    e.votes += 1;
    const c = consensus.get(v.image_id);
    if (c) e.pairs.push([v.verdict, c]);
    byExpert.set(v.user_id, e);
  }
  const names = new Map((await repo.usernames(db, [...byExpert.keys()])).map((u) => [u.id, u.username]));
  const reliability = new Map(ds.experts.map((e) => [e.expertId, e]));
  const withOthers = agreementWithOthers(
    votes.map((v) => ({ imageId: v.image_id, expertId: v.user_id, label: v.verdict })),
  );
  const below = belowPanel(
    ds.experts.map((e) => ({
      id: e.expertId,
      votes: e.votes,
      sensitivity: e.sensitivity,
      specificity: e.specificity,
    })),
  );

  return {
    images: byImage.size,
    votes: votes.length,
    fleissKappa: fleiss.kappa,
    fleiss: { images: fleiss.subjects, votesPerImage: fleiss.ratersPerSubject, excluded: fleiss.excluded },
    krippendorffAlpha: krippendorffAlphaNominal(units.map((u) => u.map((v) => v.verdict))),
    perExpert: [...byExpert]
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([id, e]) => {
        const r = reliability.get(id)!;
        return {
          user: { id, username: names.get(id) ?? '' },
          votes: e.votes,
          agreementWithConsensus: percentAgreement(e.pairs),
          cohenKappaWithConsensus: cohenKappa(e.pairs),
          withOthers: withOthers.get(id)!,
          dawidSkene: { sensitivity: r.sensitivity, specificity: r.specificity, accuracy: r.accuracy },
          belowPanel: below.get(id) ?? [],
        };
      }),
    perAnomaly: ANOMALY_CODES.map((code) => {
      const marks = units.map((u) => u.map((v) => v.anomalies.includes(code)));
      return {
        code,
        fleissKappa: fleissKappaOfRatings(marks).kappa,
        krippendorffAlpha: krippendorffAlphaNominal(marks),
      };
    }),
    dawidSkene: { prior: ds.prior, iterations: ds.iterations, converged: ds.converged },
  };
}
