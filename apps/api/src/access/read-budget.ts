/**
 * A token bucket for forward-auth's reads of the API server. Traefik asks forward-auth about
 * every request to a desktop, and anyone on the internet can make requests for session names
 * that no cache holds (or tickets, which are read fresh): unbounded, each would be a read of
 * kube-apiserver. The bucket holds `burst` reads and refills `perSecond` a second; a read beyond
 * it is not made, and the browser is told when to try again.
 */
export interface ReadBudgetOptions {
  /** Reads allowed at once after a quiet spell. */
  burst: number;
  /** Reads a second in the long run. */
  perSecond: number;
  /** Epoch milliseconds (injected for tests). */
  now?: () => number;
}

export const FORWARD_AUTH_READ_BUDGET = { burst: 50, perSecond: 20 } as const;

export type Take = { ok: true } | { ok: false; retryAfterSeconds: number };

export class ReadBudget {
  private tokens: number;
  private last: number;
  private readonly now: () => number;

  constructor(private readonly o: ReadBudgetOptions) {
    if (!(o.burst >= 1) || !(o.perSecond > 0)) {
      throw new Error(`a read budget needs burst >= 1 and perSecond > 0 (got ${o.burst}, ${o.perSecond})`);
    }
    this.now = o.now ?? Date.now;
    this.tokens = o.burst;
    this.last = this.now();
  }

  /** Takes one read from the budget, or says in how many whole seconds one will be there. */
  take(): Take {
    const now = this.now();
    // A clock that goes back refills nothing (and takes nothing away).
    const elapsed = Math.max(0, now - this.last);
    this.tokens = Math.min(this.o.burst, this.tokens + (elapsed / 1000) * this.o.perSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - this.tokens) / this.o.perSecond)) };
  }
}
