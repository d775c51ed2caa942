/**
 * Wrong admin tokens per client address in a sliding window. From the limit-th failure in the window, the
 * address is held back (every token it presents answered 429, so the answer tells a guesser nothing) until
 * the oldest of those failures leaves the window. Successes neither count nor forgive.
 */
export interface AuthThrottleSettings {
  /** Wrong tokens an address may present within the window (default 10). */
  failures: number;
  /** The window, in milliseconds (default one minute). */
  windowMs: number;
}

export const DEFAULT_AUTH_THROTTLE: AuthThrottleSettings = { failures: 10, windowMs: 60_000 };

/** So a flood of addresses cannot grow the table without bound; the oldest gives way. */
const DEFAULT_MAX_ADDRESSES = 10_000;

export class AuthThrottle {
  /** Failure times per address, oldest first; Map order is the order addresses were first seen. */
  private readonly failureTimes = new Map<string, number[]>();

  constructor(
    private readonly settings: AuthThrottleSettings = DEFAULT_AUTH_THROTTLE,
    private readonly now: () => number = Date.now,
    private readonly maxAddresses = DEFAULT_MAX_ADDRESSES,
  ) {}

  /** How many addresses have failures in the window. */
  get tracked(): number {
    return this.failureTimes.size;
  }

  /** Whole seconds until `address` may present a token again; 0 when it may now. */
  retryAfter(address: string): number {
    const recent = this.recent(address);
    if (recent.length < this.settings.failures) return 0;
    const freedAt = recent[recent.length - this.settings.failures]! + this.settings.windowMs;
    return Math.max(1, Math.ceil((freedAt - this.now()) / 1000));
  }

  fail(address: string): void {
    const recent = this.recent(address);
    if (recent.length === 0 && this.failureTimes.size >= this.maxAddresses) this.makeRoom();
    this.failureTimes.set(address, [...recent, this.now()]);
  }

  /** The address's failures still in the window (an address with none is forgotten). */
  private recent(address: string): number[] {
    const since = this.now() - this.settings.windowMs;
    const recent = (this.failureTimes.get(address) ?? []).filter((time) => time > since);
    if (recent.length === 0) this.failureTimes.delete(address);
    return recent;
  }

  private makeRoom(): void {
    for (const address of [...this.failureTimes.keys()]) this.recent(address);
    if (this.failureTimes.size >= this.maxAddresses) this.failureTimes.delete(this.failureTimes.keys().next().value!);
  }
}
