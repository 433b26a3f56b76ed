/** Small Preact hooks: polling while a panel is visible. */
import { useEffect, useRef } from "preact/hooks";

/** Runs `tick` now and every `intervalMs` while `active`; one run at a time. */
export function usePoll(tick: () => Promise<void>, intervalMs: number, active: boolean): void {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    if (!active) return undefined;
    let running = false;
    const run = (): void => {
      if (running) return;
      running = true;
      void latest.current().finally(() => (running = false));
    };
    run();
    const timer = window.setInterval(run, intervalMs);
    return () => window.clearInterval(timer);
  }, [active, intervalMs]);
}
