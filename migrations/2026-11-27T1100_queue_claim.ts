import { sql, type Kysely } from 'kysely';

/**
 * The queue's claim as one call: given the candidate images in the order they are offered, lease the first
 * one that no concurrent transaction holds and that is still open for the expert.
 *
 * Before, the API did this in round trips of its own — lock the first free candidate (SKIP LOCKED), then
 * re-check and lease it in a second statement, which needs a snapshot taken after the lock: a vote or
 * claim that committed between the candidate query and the lock is invisible to any statement that began
 * before it. Each round trip costs a socket write on both sides, which is most of the CPU a next-image
 * request takes on a loaded machine; here every candidate costs none. Under READ COMMITTED each statement
 * of a PL/pgSQL function takes a fresh snapshot, so the re-check sees everything committed before it.
 *
 * The predicate in the insert is queue.repository's `openFor`, word for word, with the arguments in place
 * of the parameters; queue/claim-function.test.ts compares the two, so a change there comes with a
 * migration that re-creates this function.
 *
 * Returns the leased image; null when every candidate was held or had closed (the caller asks for fresh
 * candidates then).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function platina_claim(p_user bigint, p_ids bigint[], p_votes_required int, p_lease_minutes int)
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
        where i.id = v_id and (
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
    end $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function platina_claim(bigint, bigint[], int, int)`.execute(db);
}
