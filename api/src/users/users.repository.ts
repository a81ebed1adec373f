import type { Exec, Role } from '../../../lib/db/schema.ts';

const COLUMNS = ['id', 'username', 'role', 'disabled_at', 'created_at'] as const;

export function insertUser(db: Exec, u: { username: string; passwordHash: string; role: Role }) {
  return db
    .insertInto('users')
    .values({ username: u.username, password_hash: u.passwordHash, role: u.role })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
}

export function listUsers(db: Exec) {
  return db.selectFrom('users').select(COLUMNS).orderBy('id').execute();
}

export function findUser(db: Exec, id: string) {
  return db.selectFrom('users').select(COLUMNS).where('id', '=', id).executeTakeFirst();
}

export function updateUser(
  db: Exec,
  id: string,
  set: { role?: Role; disabled_at?: Date | null; password_hash?: string },
) {
  return db.updateTable('users').set(set).where('id', '=', id).returning(COLUMNS).executeTakeFirst();
}

export async function countUsers(db: Exec): Promise<number> {
  const r = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}
