/**
 * Reads something again and again while a page shows work under way: every second while it
 * changes, slowing down to every `maxMs` while it does not (a job waiting days for approvals
 * should not read its items every second), paused while the tab is hidden.
 */
export class Poller {
  private timer?: number;
  private delayMs: number;
  private running = false;
  private readonly onVisibility = () => {
    if (!document.hidden && this.running) this.schedule(0);
  };

  /** `tick` reads once and answers whether to go on, and whether what it read had changed. */
  constructor(
    private readonly tick: () => Promise<{ more: boolean; changed: boolean }>,
    private readonly minMs = 1000,
    private readonly maxMs = 5000,
  ) {
    this.delayMs = minMs;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.delayMs = this.minMs;
    document.addEventListener('visibilitychange', this.onVisibility);
    this.schedule(this.delayMs);
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    document.removeEventListener('visibilitychange', this.onVisibility);
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.run(), delayMs);
  }

  private async run(): Promise<void> {
    if (!this.running || document.hidden) return;
    let outcome = { more: true, changed: false };
    try {
      outcome = await this.tick();
    } catch {
      // The page reports the failure itself; the poller keeps trying, more slowly.
    }
    if (!this.running) return;
    if (!outcome.more) {
      this.stop();
      return;
    }
    this.delayMs = outcome.changed ? this.minMs : Math.min(this.maxMs, this.delayMs * 2);
    this.schedule(this.delayMs);
  }
}
