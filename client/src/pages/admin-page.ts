import { LitElement, css, html } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { apiContext, sessionContext, type Session } from '../context.ts';
import { ApiError, describeError, type ApiClient } from '../data/api-client.ts';
import { createUser, listUsers, updateUser } from '../data/users.ts';
import { getSettings, putSettings } from '../data/settings.ts';
import { listBundles } from '../data/images.ts';
import { loadDemo } from '../data/demo.ts';
import type { Settings } from '../../../lib/api-types/settings.ts';
import type { Role } from '../../../lib/api-types/users.ts';
import { base } from '../styles.ts';

const ROLES: Role[] = ['expert', 'lead', 'admin', 'runner'];

const SETTING_LABELS: Record<string, string> = {
  votesRequired: 'Votes required before a consensus',
  votesMax: 'Most votes asked for when the first ones split',
  showModelHint: 'Show the model’s hint to experts before they vote',
  retrainEvery: 'Retrain after this many new resolved labels',
};

/** Users (create, role, disable), settings, import status and the demo loader. */
@customElement('admin-page')
export class AdminPage extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(440px, 1fr));
        gap: 12px;
        padding: 12px;
        align-content: start;
      }
      form {
        display: flex;
        flex-wrap: wrap;
        gap: 6px;
        align-items: end;
        margin-top: 10px;
      }
      .settings label {
        display: flex;
        justify-content: space-between;
        gap: 12px;
        align-items: center;
        padding: 4px 0;
      }
      .settings input[type='number'] {
        width: 80px;
      }
      .ok {
        color: var(--ok);
      }
    `,
  ];

  @consume({ context: apiContext }) private api!: ApiClient;
  @consume({ context: sessionContext, subscribe: true }) private session: Session | null = null;
  @state() private userMsg = '';
  @state() private settingsMsg = '';
  @state() private demoMsg = '';
  @state() private draft: Settings | null = null;

  private users = new Task(this, { task: (_a, { signal }) => listUsers(this.api, signal), args: () => [] });
  private settings = new Task(this, {
    task: async (_a, { signal }) => {
      const s = await getSettings(this.api, signal);
      this.draft = { ...s };
      return s;
    },
    args: () => [],
  });
  private bundles = new Task(this, {
    task: (_a, { signal }) => listBundles(this.api, signal),
    args: () => [],
  });

  override render() {
    return html`
      <section class="card">
        <h2>Users</h2>
        ${this.users.render({
          pending: () => html`<p class="muted">Loading…</p>`,
          error: (e) => html`<p class="error">${describeError(e)}</p>`,
          complete: (users) =>
            html`<table>
              <thead>
                <tr>
                  <th>User</th>
                  <th>Role</th>
                  <th>Status</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${users.map(
                  (u) =>
                    html`<tr>
                      <td>${u.username}</td>
                      <td>
                        <select
                          aria-label="Role of ${u.username}"
                          ?disabled=${u.id === this.session?.user.id}
                          title=${u.id === this.session?.user.id ? 'Your own role: another admin can change it' : ''}
                          @change=${(e: Event) => this.changeUser(u.id, { role: (e.target as HTMLSelectElement).value as Role })}
                        >
                          ${ROLES.map((r) => html`<option .value=${r} ?selected=${r === u.role}>${r}</option>`)}
                        </select>
                      </td>
                      <td>${u.disabled ? 'disabled' : 'active'}</td>
                      <td>
                        ${
                          // The API refuses to disable or demote yourself (you would lock yourself out): no button.
                          u.id === this.session?.user.id
                            ? html`<span class="muted">you</span>`
                            : html`<button @click=${() => this.changeUser(u.id, { disabled: !u.disabled })}>
                                ${u.disabled ? 'Enable' : 'Disable'}
                              </button>`
                        }
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>`,
        })}
        <form @submit=${this.create}>
          <input name="username" placeholder="username" aria-label="New username" required />
          <input
            name="password"
            type="password"
            placeholder="password (8+)"
            aria-label="New password"
            required
            minlength="8"
          />
          <select name="role" aria-label="New user's role">
            ${ROLES.map((r) => html`<option .value=${r}>${r}</option>`)}
          </select>
          <button class="primary" type="submit">Create user</button>
        </form>
        <p role="status" class=${this.userMsg.startsWith('Created') ? 'ok' : 'error'}>${this.userMsg}</p>
      </section>
      <section class="card settings">
        <h2>Settings</h2>
        ${
          this.draft
            ? html`${Object.entries(this.draft).map(
                  ([k, v]) =>
                    html`<label
                      >${SETTING_LABELS[k] ?? k}
                      ${
                        typeof v === 'boolean'
                          ? html`<input
                              type="checkbox"
                              .checked=${v}
                              @change=${(e: Event) => this.setDraft(k, (e.target as HTMLInputElement).checked)}
                            />`
                          : html`<input
                              type="number"
                              min="1"
                              .value=${String(v)}
                              @input=${(e: Event) => this.setDraft(k, Number((e.target as HTMLInputElement).value))}
                            />`
                      }</label
                    >`,
                )} <button class="primary" @click=${this.saveSettings}>Save settings</button>`
            : this.settings.render({ error: (e) => html`<p class="error">${describeError(e)}</p>` })
        }
        <p role="status">${this.settingsMsg}</p>
      </section>
      <section class="card">
        <h2>Images</h2>
        ${this.bundles.render({
          pending: () => html`<p class="muted">Loading…</p>`,
          error: (e) => html`<p class="error">${describeError(e)}</p>`,
          complete: (b) =>
            html`<p>
              ${b.length} bundles, ${b.reduce((s, x) => s + x.images, 0)} images imported,
              ${b.reduce((s, x) => s + x.resolved, 0)} resolved.
            </p>`,
        })}
        <p class="muted">
          Import a folder with <code>npm run import -- &lt;folder&gt; --bundle-from-dir</code>.
        </p>
        <h3>Demo</h3>
        <p class="muted">
          Synthetic electrode X-rays, a lead and three experts, and a first round of simulated votes.
        </p>
        <button @click=${this.demo}>Load the demo</button>
        <p role="status">${this.demoMsg}</p>
      </section>
    `;
  }

  private setDraft(key: string, value: boolean | number): void {
    if (this.draft) this.draft = { ...this.draft, [key]: value };
  }

  private async changeUser(id: string, patch: { role?: Role; disabled?: boolean }): Promise<void> {
    try {
      await updateUser(this.api, id, patch);
      this.userMsg = '';
    } catch (err) {
      this.userMsg = describeError(err);
    }
    this.users.run();
  }

  private create = async (e: SubmitEvent): Promise<void> => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const f = new FormData(form);
    try {
      const u = await createUser(this.api, {
        username: String(f.get('username')),
        password: String(f.get('password')),
        role: String(f.get('role')) as Role,
      });
      this.userMsg = `Created ${u.username} (${u.role}).`;
      form.reset();
      this.users.run();
    } catch (err) {
      this.userMsg = describeError(err);
    }
  };

  private saveSettings = async (): Promise<void> => {
    if (!this.draft) return;
    try {
      this.draft = { ...(await putSettings(this.api, this.draft)) };
      this.settingsMsg = 'Saved.';
    } catch (err) {
      this.settingsMsg = describeError(err);
    }
  };

  private demo = async (): Promise<void> => {
    this.demoMsg = 'Loading the demo…';
    try {
      const r = await loadDemo(this.api);
      this.demoMsg =
        r?.message ?? (r?.jobId ? `Started (job ${r.jobId}); the dashboard shows its progress.` : 'Done.');
      this.bundles.run();
    } catch (err) {
      this.demoMsg =
        err instanceof ApiError && (err.status === 404 || err.status === 405)
          ? 'This server has no demo loader endpoint; run `npm run demo` on the server instead.'
          : describeError(err);
    }
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'admin-page': AdminPage;
  }
}
