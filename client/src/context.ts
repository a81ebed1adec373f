/**
 * The app's context slices (`@lit/context`): small and separate, never one god object.
 * - session: who is signed in (null when nobody); pages read the role from it.
 * - api: the HTTP client carrying the session's token.
 * - outbox: votes on their way to the server; outlives pages (a 401 swaps the page for the login form).
 */
import { createContext } from '@lit/context';
import type { ApiClient } from './data/api-client.ts';
import type { MeDto } from '../../lib/api-types/users.ts';
import type { VoteOutbox } from './data/vote-outbox.ts';

export interface Session {
  token: string;
  user: MeDto;
}

export const sessionContext = createContext<Session | null>(Symbol('platina-session'));
export const apiContext = createContext<ApiClient>(Symbol('platina-api'));
export const outboxContext = createContext<VoteOutbox>(Symbol('platina-outbox'));
