/**
 * The Redis the BullMQ suites share (LSTM_TEST_REDIS_URL; required under CI=true). Each suite takes its own queue
 * name, so files running in parallel never see each other's jobs, and removes its keys afterwards.
 */
import { Redis } from 'ioredis';
import { describe } from 'vitest';
import { REDIS_URL } from './services.js';

export const redisUrl = REDIS_URL;

/** `describe` that runs only when a Redis for the tests is configured. */
export const describeRedis = describe.skipIf(!redisUrl);

let counter = 0;

/** A queue name no other suite uses. */
export function uniqueQueueName(): string {
  return `lstm-test-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

/** Deletes every key of the queue `name` (what Redis holds of it), as a Redis restart without persistence would. */
export async function deleteQueueKeys(name: string): Promise<number> {
  const redis = new Redis(redisUrl!);
  try {
    const keys = await redis.keys(`${name}:*`);
    return keys.length > 0 ? await redis.del(...keys) : 0;
  } finally {
    redis.disconnect();
  }
}
