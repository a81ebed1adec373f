import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, NetworkError } from './api-client.ts';
import { VoteOutbox, type SendVote } from './vote-outbox.ts';
import type { MyVoteDto, VoteInput } from '../../../lib/api-types/votes.ts';

/** sessionStorage stand-in. */
class MemoryStorage {
  data = new Map<string, string>();
  get length() {
    return this.data.size;
  }
  clear() {
    this.data.clear();
  }
  getItem(k: string) {
    return this.data.get(k) ?? null;
  }
  key(i: number) {
    return [...this.data.keys()][i] ?? null;
  }
  removeItem(k: string) {
    this.data.delete(k);
  }
  setItem(k: string, v: string) {
    this.data.set(k, v);
  }
}

const vote: VoteInput = { verdict: 'abnormal', anomalies: ['bubbles'] };
const ack = (imageId: string, v: VoteInput): MyVoteDto => ({
  imageId,
  ...v,
  comment: null,
  modelHintShown: false,
  anomalyHint: null,
  createdAt: '',
});
const settle = () => new Promise((r) => setTimeout(r, 5));

describe('vote outbox', () => {
  test('sends a vote and marks it saved', async () => {
    const sent: string[] = [];
    const box = new VoteOutbox(async (id, v) => (sent.push(id), ack(id, v)), new MemoryStorage() as Storage);
    box.setUser('ana');
    box.enqueue('7', 'a.tif', vote);
    await box.drain();
    assert.deepEqual(sent, ['7']);
    assert.equal(box.all[0].state, 'sent');
  });

  test('keeps a vote through a 401, survives a reload from storage, and sends it once the same user signs in', async () => {
    const storage = new MemoryStorage() as Storage;
    let expired = true;
    const sent: string[] = [];
    const send: SendVote = async (id, v) => {
      if (expired) throw new ApiError(401, 'Unauthorized', 'expired');
      sent.push(id);
      return ack(id, v);
    };
    const box = new VoteOutbox(send, storage);
    box.setUser('ana');
    box.enqueue('7', 'a.tif', vote);
    await settle();
    assert.equal(box.all[0].state, 'waiting-login');
    assert.deepEqual(sent, []);

    const reloaded = new VoteOutbox(send, storage);
    assert.equal(reloaded.unsent('ana').length, 1);
    expired = false;
    reloaded.setUser('bob'); // another user's sign-in does not send ana's vote
    await settle();
    assert.deepEqual(sent, []);
    reloaded.setUser('ana');
    await reloaded.drain();
    assert.deepEqual(sent, ['7']);
  });

  test('retries after a network failure instead of dropping the vote', async () => {
    let failures = 1;
    const box = new VoteOutbox(async (id, v) => {
      if (failures-- > 0) throw new NetworkError(new TypeError('fetch failed'));
      return ack(id, v);
    }, new MemoryStorage() as Storage);
    box.setUser('ana');
    box.enqueue('7', 'a.tif', vote);
    await settle();
    assert.equal(box.all[0].state, 'retrying');
    assert.match(box.all[0].error!, /cannot be reached/);
    box.retry(box.all[0].id);
    await box.drain();
    assert.equal(box.all[0].state, 'sent');
  });

  test('a refused vote (422) is shown as failed with the server’s sentence, not retried forever', async () => {
    const box = new VoteOutbox(async () => {
      throw new ApiError(422, 'Invalid', 'anomalies: must be one of …');
    }, new MemoryStorage() as Storage);
    box.setUser('ana');
    box.enqueue('7', 'a.tif', vote);
    await assert.rejects(box.drain(), /anomalies: must be one of/);
    assert.equal(box.all[0].state, 'failed');
  });

  test('a changed vote on the same image is sent after the first, so the server keeps the newer one', async () => {
    const sent: string[] = [];
    const box = new VoteOutbox(
      async (id, v) => (sent.push(v.verdict), ack(id, v)),
      new MemoryStorage() as Storage,
    );
    assert.throws(() => box.enqueue('7', 'a.tif', vote), /Sign in/);
    box.setUser('ana');
    box.enqueue('7', 'a.tif', vote);
    box.enqueue('7', 'a.tif', { verdict: 'normal', anomalies: [] });
    await box.drain();
    assert.deepEqual(sent, ['abnormal', 'normal']);
  });
});
