import { sql, type Kysely } from 'kysely';

/**
 * Reference images (issue 15, item 5 — what other labeling tools call ground truth or honeypots): the lead marks a
 * resolved image as a reference, its verdict at that moment becomes the answer, and the queue mixes references
 * blind into each expert's work at a rate the lead sets, so each expert's accuracy on them can be followed over time.
 *
 * - `reference_marks`: the append-only history of `mark` and `unmark`, who and when, with the answer a mark fixed
 *   (the image's consensus then; a later change of the consensus does not move a reference's answer silently —
 *   the lead marks it again). The current references are the images whose latest row is a `mark`.
 * - `reference_offers`: a reference handed to an expert by the queue and not answered yet (soft state, like a
 *   lease); the expert's next vote on that image is taken as the answer.
 * - `reference_answers`: the append-only answers, each with the answer in force when given, so accuracy over time
 *   never depends on later marks. They are not votes: an answer never touches the image's votes or consensus.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table reference_marks (
      id bigint generated always as identity primary key,
      image_id bigint not null references images(id),
      user_id bigint not null references users(id),
      action text not null check (action in ('mark', 'unmark')),
      verdict text check (verdict in ('normal', 'abnormal')),
      anomalies text[] not null default '{}',
      created_at timestamptz not null default now(),
      check ((action = 'mark') = (verdict is not null))
    )`.execute(db);
  await sql`create index reference_marks_image_idx on reference_marks (image_id, id desc)`.execute(db);
  await sql`create trigger reference_marks_append_only before update or delete on reference_marks
    for each row execute function platina_refuse_change()`.execute(db);

  await sql`
    create table reference_offers (
      image_id bigint not null references images(id),
      user_id bigint not null references users(id),
      offered_at timestamptz not null default now(),
      primary key (user_id, image_id)
    )`.execute(db);

  await sql`
    create table reference_answers (
      id bigint generated always as identity primary key,
      image_id bigint not null references images(id),
      user_id bigint not null references users(id),
      verdict text not null check (verdict in ('normal', 'abnormal')),
      anomalies text[] not null default '{}',
      expected_verdict text not null check (expected_verdict in ('normal', 'abnormal')),
      created_at timestamptz not null default now(),
      unique (user_id, image_id)
    )`.execute(db);
  await sql`create trigger reference_answers_append_only before update or delete on reference_answers
    for each row execute function platina_refuse_change()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table reference_answers`.execute(db);
  await sql`drop table reference_offers`.execute(db);
  await sql`drop table reference_marks`.execute(db);
}
