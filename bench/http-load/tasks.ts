import http from 'node:http';

/**
 * The HTTP clients of the votes benchmark, run in a worker thread (http-load.ts): experts are other
 * machines in production, so their requests must not share the server's event loop. Plain node:http
 * with keep-alive — one socket per simulated expert, as a browser tab would hold — because fetch
 * (undici) costs several times more client CPU per request on this 2-core machine.
 */
export interface Expert {
  token: string;
}

export interface VoteBurst {
  url: string;
  /** Per expert, the image ids they vote on, in order. */
  plans: { token: string; images: string[] }[];
}

export interface QueueRounds {
  url: string;
  experts: Expert[];
  rounds: number;
  /**
   * Pause between an expert's vote and their next request, uniformly drawn from [0.5, 1.5] × thinkMs
   * (0: none, every expert asks again at once — a stress test rather than people labeling).
   */
  thinkMs?: number;
  /**
   * Rounds at the start of each expert's run whose next-image latencies are returned apart (`rampUp`), not
   * in `latencies`: with no pause, every expert's first request arrives in the same millisecond, a burst
   * the steady state never sees again.
   */
  rampUpRounds?: number;
}

function client(base: string, sockets: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const { hostname, port } = new URL(base);
  return {
    request(method: string, path: string, token: string, json?: unknown) {
      const body = json === undefined ? undefined : JSON.stringify(json);
      return new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          {
            agent,
            hostname,
            port,
            method,
            path,
            headers: {
              authorization: `Bearer ${token}`,
              ...(body
                ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
                : {}),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
            );
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const verdictOf = (k: number, j: number) => ((j + k) % 4 === 0 ? 'abnormal' : 'normal');

export const loadTasks = {
  /** Every expert votes through their plan in sequence, all experts at once: latencies (ms) and seconds. */
  async voteBurst(o: VoteBurst): Promise<{ latencies: number[]; seconds: number }> {
    const http = client(o.url, o.plans.length);
    const latencies: number[] = [];
    const started = performance.now();
    try {
      await Promise.all(
        o.plans.map(async (plan, k) => {
          for (const [j, image] of plan.images.entries()) {
            const verdict = verdictOf(k, j);
            const t = performance.now();
            const r = await http.request('PUT', `/api/images/${image}/votes/me`, plan.token, {
              verdict,
              anomalies: verdict === 'abnormal' ? ['bubbles'] : [],
            });
            latencies.push(performance.now() - t);
            if (r.status !== 200) throw new Error(`vote answered ${r.status}: ${r.body}`);
          }
        }),
      );
    } finally {
      http.close();
    }
    return { latencies, seconds: (performance.now() - started) / 1000 };
  },

  /** Each expert, `rounds` times: get the next image (timed), vote on it. */
  async queueRounds(o: QueueRounds): Promise<{ latencies: number[]; rampUp: number[] }> {
    const http = client(o.url, o.experts.length);
    const latencies: number[] = [];
    const rampUp: number[] = [];
    try {
      await Promise.all(
        o.experts.map(async (expert) => {
          // Paced experts arrive spread over one pause, not all in the same millisecond.
          if (o.thinkMs) await sleep(o.thinkMs * Math.random());
          for (let j = 0; j < o.rounds; j++) {
            const t = performance.now();
            const next = await http.request('GET', '/api/queue/next', expert.token);
            (j < (o.rampUpRounds ?? 0) ? rampUp : latencies).push(performance.now() - t);
            if (next.status !== 200) throw new Error(`queue answered ${next.status}: ${next.body}`);
            const { id } = JSON.parse(next.body) as { id: string };
            const r = await http.request('PUT', `/api/images/${id}/votes/me`, expert.token, {
              verdict: 'normal',
              anomalies: [],
            });
            if (r.status !== 200) throw new Error(`vote answered ${r.status}: ${r.body}`);
            if (o.thinkMs) await sleep(o.thinkMs * (0.5 + Math.random()));
          }
        }),
      );
    } finally {
      http.close();
    }
    return { latencies, rampUp };
  },
};
