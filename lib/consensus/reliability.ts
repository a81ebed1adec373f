/**
 * Expert reliability a lead can act on: each expert measured against the rest of the panel, never against a
 * consensus their own vote helped make.
 *
 * Why not "agreement with the consensus": with three votes per image an expert's own vote is a third of the
 * majority it is compared with, and most plates are normal, so an expert who waves plates through as normal
 * agrees with the consensus nearly as often as a careful one (the demo's careless expert topped that table).
 * Sensitivity — P(says abnormal | abnormal), from Dawid–Skene (lib/consensus/dawid-skene.ts) — is what such a
 * habit costs, so the screens put it beside agreement and mark the experts who fall below the panel on it.
 */
import { cohenKappa, percentAgreement } from './agreement.ts';

export interface PanelVote<C> {
  imageId: string;
  expertId: string;
  label: C;
}

export interface AgreementWithOthers {
  /** Images where the other experts' votes had a majority (ties among them are left out). */
  images: number;
  agreement: number | null;
  kappa: number | null;
}

/**
 * Per expert: agreement and Cohen's κ of their label with the majority of the OTHER experts' labels on the same
 * image (leave-one-out). Images where the others tie, or where nobody else voted, do not count.
 */
export function agreementWithOthers<C>(votes: readonly PanelVote<C>[]): Map<string, AgreementWithOthers> {
  const byImage = new Map<string, PanelVote<C>[]>();
  for (const v of votes) byImage.set(v.imageId, [...(byImage.get(v.imageId) ?? []), v]);
  const pairs = new Map<string, [C, C][]>();
  for (const list of byImage.values()) {
    for (const v of list) {
      const counts = new Map<C, number>();
      for (const o of list) if (o !== v) counts.set(o.label, (counts.get(o.label) ?? 0) + 1);
      const ranked = [...counts].sort((a, b) => b[1] - a[1]);
      if (ranked.length === 0 || (ranked.length > 1 && ranked[0][1] === ranked[1][1])) continue;
      pairs.set(v.expertId, [...(pairs.get(v.expertId) ?? []), [v.label, ranked[0][0]]]);
    }
  }
  const out = new Map<string, AgreementWithOthers>();
  for (const id of new Set(votes.map((v) => v.expertId))) {
    const p = pairs.get(id) ?? [];
    out.set(id, { images: p.length, agreement: percentAgreement(p), kappa: cohenKappa(p) });
  }
  return out;
}

export type PanelMeasure = 'sensitivity' | 'specificity';

export interface PanelMember {
  id: string;
  votes: number;
  sensitivity: number;
  specificity: number;
}

/**
 * An expert falls below the panel on a measure when it is lower than the median of the other judged experts by
 * more than `margin`. Only experts with at least `minVotes` votes are judged or counted (a few votes say little),
 * and an expert is judged only against at least two others. The margin (default 0.15) is wider than the
 * sampling noise of a sensitivity over a few dozen abnormal plates (a standard error near 0.08 at 30), so the
 * mark means "look at this expert", not "this expert had an unlucky day".
 */
export function belowPanel(
  members: readonly PanelMember[],
  { margin = 0.15, minVotes = 10 }: { margin?: number; minVotes?: number } = {},
): Map<string, PanelMeasure[]> {
  const judged = members.filter((m) => m.votes >= minVotes);
  const out = new Map<string, PanelMeasure[]>();
  for (const m of members) {
    const others = judged.filter((o) => o.id !== m.id);
    const below: PanelMeasure[] = [];
    if (m.votes >= minVotes && others.length >= 2) {
      for (const measure of ['sensitivity', 'specificity'] as const) {
        if (m[measure] < median(others.map((o) => o[measure])) - margin) below.push(measure);
      }
    }
    out.set(m.id, below);
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
