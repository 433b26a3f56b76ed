import { describe, expect, it } from "vitest";
import { FakeTime } from "../core/index.js";
import { isStartedByNpm, launcherPollMs, watchLauncher, type ProcessProbe } from "./launcher-watch.js";

function fakeProbe(tree: {
  parent: number;
  commands?: Record<number, string>;
  parents?: Record<number, number>;
}) {
  const alive = new Set([tree.parent, ...Object.values(tree.parents ?? {})]);
  const probe: ProcessProbe & { parent: number; alive: Set<number> } = {
    parent: tree.parent,
    alive,
    parentPid: () => probe.parent,
    isAlive: (pid) => alive.has(pid),
    parentOf: (pid) => tree.parents?.[pid],
    commandOf: (pid) => tree.commands?.[pid],
  };
  return probe;
}

describe("watchLauncher", () => {
  it("fires once, within a poll, after the parent changes (re-parented to init)", () => {
    const time = new FakeTime();
    const probe = fakeProbe({ parent: 200 });
    let gone = 0;
    watchLauncher({ time, probe, onGone: () => gone++ });
    time.advance(launcherPollMs * 3);
    expect(gone).toBe(0);
    probe.parent = 1;
    time.advance(launcherPollMs);
    expect(gone).toBe(1);
    time.advance(launcherPollMs * 3);
    expect(gone).toBe(1);
    expect(time.pendingTimers).toBe(0);
  });

  it("watches npm behind npm's `sh -c`, which outlives an npm killed with SIGKILL", () => {
    const time = new FakeTime();
    const probe = fakeProbe({ parent: 201, commands: { 201: "sh" }, parents: { 201: 100 } });
    let gone = 0;
    watchLauncher({ time, probe, onGone: () => gone++ });
    time.advance(launcherPollMs);
    expect(gone).toBe(0);
    probe.alive.delete(100);
    time.advance(launcherPollMs);
    expect(gone).toBe(1);
  });

  it("does not watch a grandparent that is init, nor one behind a parent that is not a shell", () => {
    const time = new FakeTime();
    const probe = fakeProbe({ parent: 300, commands: { 300: "node" }, parents: { 300: 50 } });
    let gone = 0;
    watchLauncher({ time, probe, onGone: () => gone++ });
    probe.alive.delete(50);
    time.advance(launcherPollMs * 2);
    expect(gone).toBe(0);
  });

  it("cancel stops the watch", () => {
    const time = new FakeTime();
    const probe = fakeProbe({ parent: 200 });
    let gone = 0;
    watchLauncher({ time, probe, onGone: () => gone++ }).cancel();
    probe.parent = 1;
    time.advance(launcherPollMs * 2);
    expect(gone).toBe(0);
  });
});

describe("isStartedByNpm", () => {
  it("is true under npx and npm run, false otherwise", () => {
    expect(isStartedByNpm({ npm_command: "exec", npm_lifecycle_event: "npx" })).toBe(true);
    expect(isStartedByNpm({ npm_lifecycle_event: "start" })).toBe(true);
    expect(isStartedByNpm({ PATH: "/usr/bin" })).toBe(false);
  });
});
