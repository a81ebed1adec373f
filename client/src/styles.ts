import { css } from 'lit';

/** Shared look: calm greys, one accent, tabular numbers. Adopted stylesheets only (CSP-friendly). */
export const base = css`
  :host {
    --bg: #f5f6f8;
    --surface: #ffffff;
    --line: #dde1e6;
    --text: #1d2329;
    --muted: #5d6670;
    --accent: #2a62a8;
    --accent-soft: #e6eef8;
    --ok: #2f7d4f;
    --warn: #a86412;
    --bad: #b3382f;
    color: var(--text);
    font:
      14px/1.45 system-ui,
      -apple-system,
      'Segoe UI',
      sans-serif;
  }
  h1,
  h2,
  h3 {
    font-weight: 600;
    margin: 0 0 8px;
  }
  h1 {
    font-size: 18px;
  }
  h2 {
    font-size: 15px;
  }
  h3 {
    font-size: 13px;
    color: var(--muted);
    text-transform: uppercase;
    letter-spacing: 0.04em;
  }
  button {
    font: inherit;
    color: var(--text);
    background: var(--surface);
    border: 1px solid var(--line);
    border-radius: 5px;
    padding: 5px 12px;
    cursor: pointer;
  }
  button:hover:not(:disabled) {
    border-color: #b9c0c8;
  }
  button:disabled {
    opacity: 0.55;
    cursor: default;
  }
  button.primary {
    background: var(--accent);
    border-color: var(--accent);
    color: white;
  }
  button[aria-pressed='true'] {
    background: var(--accent-soft);
    border-color: var(--accent);
    color: var(--accent);
  }
  input,
  select,
  textarea {
    font: inherit;
    color: var(--text);
    border: 1px solid var(--line);
    border-radius: 5px;
    padding: 5px 8px;
    background: white;
  }
  :focus-visible {
    outline: 2px solid var(--accent);
    outline-offset: 1px;
  }
  table {
    border-collapse: collapse;
    width: 100%;
    font-variant-numeric: tabular-nums;
  }
  th,
  td {
    text-align: left;
    padding: 5px 8px;
    border-bottom: 1px solid var(--line);
  }
  th {
    font-weight: 600;
    color: var(--muted);
    font-size: 12px;
  }
  td.n,
  th.n {
    text-align: right;
  }
  .card {
    background: var(--surface);
    border: 1px solid var(--line);
    border-radius: 8px;
    padding: 14px 16px;
  }
  .muted {
    color: var(--muted);
  }
  .error {
    color: var(--bad);
  }
  .kbd,
  kbd {
    font:
      12px ui-monospace,
      monospace;
    border: 1px solid var(--line);
    border-bottom-width: 2px;
    border-radius: 4px;
    padding: 0 5px;
    background: #fafbfc;
    color: var(--muted);
  }
`;
