import { LitElement, css, html, type TemplateResult } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { provide } from '@lit/context';
import { apiContext, outboxContext, sessionContext, type Session } from '../context.ts';
import { ApiClient } from '../data/api-client.ts';
import { logout, type LoginResult } from '../data/auth.ts';
import { putMyVote } from '../data/votes.ts';
import { afterNextFrame } from './after-frame.ts';
import { VoteOutbox } from '../data/vote-outbox.ts';
import type { Role } from '../../../lib/api-types/users.ts';
import { base } from '../styles.ts';
import '../pages/login-page.ts';
import '../pages/label-page.ts';
import '../pages/review-page.ts';
import '../pages/dashboard-page.ts';
import '../pages/admin-page.ts';
import '../pages/images-page.ts';

const SESSION_KEY = 'platina.session';

interface Route {
  path: string;
  label: string;
  roles: Role[];
  render: () => TemplateResult;
}

const ROUTES: Route[] = [
  {
    path: '/label',
    label: 'Label',
    roles: ['expert', 'lead'],
    render: () => html`<label-page></label-page>`,
  },
  {
    path: '/review',
    label: 'Review',
    roles: ['lead', 'admin'],
    render: () => html`<review-page></review-page>`,
  },
  {
    path: '/images',
    label: 'Images',
    roles: ['lead', 'admin'],
    render: () => html`<images-page></images-page>`,
  },
  {
    path: '/dashboard',
    label: 'Dashboard',
    roles: ['expert', 'lead', 'admin'],
    render: () => html`<dashboard-page></dashboard-page>`,
  },
  { path: '/admin', label: 'Admin', roles: ['admin'], render: () => html`<admin-page></admin-page>` },
];

function homeOf(role: Role): string {
  return role === 'admin' ? '/dashboard' : '/label';
}

/**
 * The app shell: owns the session (token in sessionStorage), provides the context slices, routes by path
 * (the server falls back to index.html), and sends a user whose token expired to the login form while
 * their unsent votes wait in the outbox.
 */
@customElement('platina-app')
export class PlatinaApp extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        display: flex;
        flex-direction: column;
        min-height: 100vh;
        background: var(--bg);
      }
      header {
        display: flex;
        align-items: center;
        gap: 18px;
        padding: 0 18px;
        height: 46px;
        background: var(--surface);
        border-bottom: 1px solid var(--line);
      }
      .brand {
        font-weight: 700;
        letter-spacing: 0.02em;
      }
      nav {
        display: flex;
        gap: 2px;
      }
      nav a {
        color: var(--muted);
        text-decoration: none;
        padding: 6px 10px;
        border-radius: 5px;
      }
      nav a[aria-current='page'] {
        color: var(--accent);
        background: var(--accent-soft);
      }
      .grow {
        flex: 1;
      }
      .who {
        color: var(--muted);
        font-size: 13px;
      }
      main {
        flex: 1;
        display: flex;
        flex-direction: column;
        min-height: 0;
      }
      .pending {
        font-size: 13px;
        color: var(--warn);
      }
    `,
  ];

  @state() private session: Session | null = loadSession();
  @state() private path = location.pathname;
  @state() private notice = '';
  @state() private unsent = 0;

  @provide({ context: sessionContext }) sessionValue: Session | null = this.session;
  @provide({ context: apiContext }) private api = new ApiClient({
    getToken: () => this.session?.token ?? null,
    onUnauthorized: () => this.sessionExpired(),
  });
  @provide({ context: outboxContext }) private outbox = new VoteOutbox((id, vote) =>
    afterNextFrame().then(() => putMyVote(this.api, id, vote)),
  );

  override connectedCallback(): void {
    super.connectedCallback();
    addEventListener('popstate', this.onPopState);
    this.outbox.addEventListener('change', this.onOutbox);
    this.outbox.setUser(this.session?.user.username ?? null);
    this.addEventListener('signed-in', this.onSignedIn);
    this.addEventListener('navigate', this.onNavigate as EventListener);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    removeEventListener('popstate', this.onPopState);
    this.outbox.removeEventListener('change', this.onOutbox);
  }

  override willUpdate(): void {
    this.sessionValue = this.session;
    if (!this.session && this.path !== '/login') this.go('/login', true);
    if (this.session && (this.path === '/login' || this.path === '/'))
      this.go(homeOf(this.session.user.role), true);
  }

  override render() {
    const s = this.session;
    if (!s) return html`<main><login-page .notice=${this.notice}></login-page></main>`;
    const route = ROUTES.find((r) => r.path === this.path);
    const visible = ROUTES.filter((r) => r.roles.includes(s.user.role));
    return html`
      <header>
        <span class="brand">Platina</span>
        <nav aria-label="Main">
          ${visible.map(
            (r) =>
              html`<a
                href=${r.path}
                aria-current=${r.path === this.path ? 'page' : 'false'}
                @click=${this.onLink}
                >${r.label}</a
              >`,
          )}
        </nav>
        <span class="grow"></span>
        ${
          this.unsent
            ? html`<span class="pending" role="status"
                >${this.unsent} vote${this.unsent === 1 ? '' : 's'} not yet saved</span
              >`
            : null
        }
        <span class="who">${s.user.username} · ${s.user.role}</span>
        <button @click=${this.signOut}>Sign out</button>
      </header>
      <main>
        ${
          !route
            ? html`<p class="card">
                Nothing here. <a href=${homeOf(s.user.role)} @click=${this.onLink}>Go home</a>.
              </p>`
            : route.roles.includes(s.user.role)
              ? route.render()
              : html`<p class="card">Your role (${s.user.role}) cannot open ${route.label}.</p>`
        }
      </main>
    `;
  }

  private go(path: string, replace = false): void {
    if (path !== location.pathname) history[replace ? 'replaceState' : 'pushState'](null, '', path);
    this.path = path;
  }

  private onLink = (e: MouseEvent): void => {
    if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    this.go(new URL((e.currentTarget as HTMLAnchorElement).href).pathname);
  };

  private onNavigate = (e: CustomEvent<string>): void => this.go(e.detail);
  private onPopState = (): void => {
    this.path = location.pathname;
  };

  private onOutbox = (): void => {
    this.unsent = this.outbox.unsent().length;
  };

  private onSignedIn = (e: CustomEvent<LoginResult>): void => {
    const { token, user } = e.detail;
    this.session = { token, user };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(this.session));
    this.outbox.setUser(user.username);
    const next = sessionStorage.getItem('platina.returnTo');
    sessionStorage.removeItem('platina.returnTo');
    this.notice = '';
    this.go(next && next !== '/login' ? next : homeOf(user.role));
  };

  private sessionExpired(): void {
    if (!this.session) return;
    sessionStorage.setItem('platina.returnTo', this.path);
    sessionStorage.removeItem(SESSION_KEY);
    this.outbox.setUser(null);
    const waiting = this.outbox.unsent(this.session.user.username).length;
    this.notice =
      'Your session has ended. Sign in again to continue' +
      (waiting
        ? `; ${waiting} vote${waiting === 1 ? ' is' : 's are'} kept and will be sent after you sign in.`
        : '.');
    this.session = null;
  }

  private signOut = async (): Promise<void> => {
    try {
      await logout(this.api);
    } catch {
      // The token is forgotten here either way.
    }
    sessionStorage.removeItem(SESSION_KEY);
    this.outbox.setUser(null);
    this.notice = '';
    this.session = null;
  };
}

function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'platina-app': PlatinaApp;
  }
  interface HTMLElementEventMap {
    navigate: CustomEvent<string>;
  }
}
