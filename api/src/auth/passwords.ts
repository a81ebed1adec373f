import { hash, verify } from '@node-rs/argon2';

/**
 * argon2id, t=3, p=4, memory from PLATINA_ARGON2_MEMORY_KIB (default 64 MiB, above OWASP's minimum).
 * The parameters live in the hash, so changing the cost keeps old passwords valid.
 * @node-rs/argon2 ships its binary as a per-platform package with no install script (the repository's .npmrc
 * runs none); it reads and writes the same PHC strings as the `argon2` package it replaced, whose prebuilt
 * binary crashed the process on load on some Linux machines.
 */
export function hashPassword(password: string, memoryKiB: number): Promise<string> {
  // No `algorithm`: the package's default is argon2id (its Algorithm is a const enum, absent at run time).
  return hash(password, { memoryCost: memoryKiB, timeCost: 3, parallelism: 4 });
}

export function verifyPassword(stored: string, password: string): Promise<boolean> {
  return verify(stored, password).catch(() => false);
}

// Verified against when the username does not exist, so both paths cost the same time.
let dummy: Promise<string> | null = null;
export function dummyHash(memoryKiB: number): Promise<string> {
  dummy ??= hashPassword('platina-timing-equaliser', memoryKiB);
  return dummy;
}
