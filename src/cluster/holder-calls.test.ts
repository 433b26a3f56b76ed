import { describe, expect, it } from "vitest";
import { busyModel, modelAdvert, nodeAdvert } from "./cluster-adverts.testing.js";
import { holderFor } from "./holder-calls.js";

const nodes = [
  nodeAdvert("self", { models: [modelAdvert("beta")] }),
  nodeAdvert("n3", { models: [busyModel("alpha", 0)] }),
  nodeAdvert("n2", { models: [modelAdvert("alpha", { sequences: { total: 4, active: 1 } })] }),
  nodeAdvert("n1", { models: [modelAdvert("alpha", { state: "loading" })] }),
  nodeAdvert("n0", { models: [modelAdvert("alpha")], isAccepting: false }),
  nodeAdvert("n4", { models: [modelAdvert("gamma", { state: "unloading" })] }),
];

describe("holderFor", () => {
  it("picks an accepting holder, ready before loading, most free sequences first", () => {
    expect(holderFor("alpha", { nodes, selfId: "self", heldHere: false })?.nodeId).toBe("n2");
    const loadingOnly = nodes.filter((node) => node.nodeId !== "n2" && node.nodeId !== "n3");
    expect(holderFor("alpha", { nodes: loadingOnly, selfId: "self", heldHere: false })?.nodeId).toBe("n1");
  });

  it("keeps the call here when this node holds the model or no other node does", () => {
    expect(holderFor("alpha", { nodes, selfId: "self", heldHere: true })).toBeUndefined();
    expect(holderFor("beta", { nodes, selfId: "self", heldHere: false })).toBeUndefined();
    expect(holderFor("gamma", { nodes, selfId: "self", heldHere: false })).toBeUndefined();
    expect(holderFor("delta", { nodes, selfId: "self", heldHere: false })).toBeUndefined();
  });
});
