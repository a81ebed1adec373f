import { sql, type Kysely } from 'kysely';

/**
 * Excluding an image (issue 15): a wrong upload, or an image that is not an electrode, leaves the queue, the
 * statistics, the dataset bounds and training, keeps its votes, and can be restored.
 *
 * - `image_exclusions`: the append-only history of `exclude` and `restore` actions, who and why — the audit
 *   trail of these decisions (a trigger refuses UPDATE and DELETE, like votes).
 * - `images.excluded`: the current state, derived from that history by a trigger on insert, so every reader
 *   (queue, statistics, bounds, runner) filters on one column and no writer can forget to set it.
 * - `platina_claim` re-created: the queue's re-check (queue.repository `openFor`) now also says "not excluded",
 *   so an image excluded while it sat among an expert's candidates is not leased.
 * - `model_versions.global_bounds`: method 2's bounds in force when the version was trained (null for versions
 *   from before), so the screens can say when the bounds have moved since.
 */
/** The exclusion's addition to the claim's predicate (queue.repository `openFor`). */
const EXCLUDED_FIRST = `
    not i.excluded
    and`;

/** `platina_claim` of migration 1100, with `prefix` at the head of its predicate. */
const claimFunction = (prefix: string) => `
    create or replace function platina_claim(p_user bigint, p_ids bigint[], p_votes_required int, p_lease_minutes int)
    returns bigint
    language plpgsql as $$
    declare
      v_id bigint;
      v_leased bigint;
    begin
      foreach v_id in array p_ids loop
        perform 1 from images where id = v_id for no key update skip locked;
        if not found then
          continue;
        end if;
        with expired as (
          delete from queue_leases
          where user_id = p_user and expires_at <= now() and image_id <> v_id
        )
        insert into queue_leases (image_id, user_id, expires_at)
        select i.id, p_user, now() + make_interval(mins => p_lease_minutes)
        from images i left join image_consensus c on c.image_id = i.id
        where i.id = v_id and (${prefix}
    case when c.image_id is null or c.status = 'unlabeled' then p_votes_required else c.votes_needed end > 0
    and not exists (select 1 from votes v where v.image_id = i.id and v.user_id = p_user)
    and (select count(*) from queue_leases l
    where l.image_id = i.id and l.user_id <> p_user and l.expires_at > now()) < case when c.image_id is null or c.status = 'unlabeled' then p_votes_required else c.votes_needed end
  )
        on conflict (image_id, user_id) do update set expires_at = excluded.expires_at
        returning image_id into v_leased;
        if v_leased is not null then
          return v_leased;
        end if;
      end loop;
      return null;
    end $$`;

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table image_exclusions (
      id bigint generated always as identity primary key,
      image_id bigint not null references images(id),
      user_id bigint not null references users(id),
      action text not null check (action in ('exclude', 'restore')),
      reason text,
      created_at timestamptz not null default now(),
      check (action = 'restore' or reason is not null)
    )`.execute(db);
  await sql`create index image_exclusions_image_idx on image_exclusions (image_id, id desc)`.execute(db);
  await sql`create trigger image_exclusions_append_only before update or delete on image_exclusions
    for each row execute function platina_refuse_change()`.execute(db);

  await sql`alter table images add column excluded boolean not null default false`.execute(db);
  await sql`
    create function platina_sync_excluded() returns trigger language plpgsql as $$
    begin
      update images set excluded = (new.action = 'exclude') where id = new.image_id;
      return null;
    end $$`.execute(db);
  await sql`create trigger image_exclusions_sync after insert on image_exclusions
    for each row execute function platina_sync_excluded()`.execute(db);

  await sql`alter table model_versions add column global_bounds jsonb`.execute(db);

  await sql.raw(claimFunction(EXCLUDED_FIRST)).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw(claimFunction('')).execute(db);
  await sql`alter table model_versions drop column global_bounds`.execute(db);
  await sql`drop trigger image_exclusions_sync on image_exclusions`.execute(db);
  await sql`drop function platina_sync_excluded()`.execute(db);
  await sql`alter table images drop column excluded`.execute(db);
  await sql`drop table image_exclusions`.execute(db);
}
