/**
 * The queue suite's seeded request schedule. Each model has its own ordered list of requests
 * (priority, prompt, max_tokens); that model's closed-loop clients take the next request from
 * the list whenever one of them is free. Both queue policies run the same lists, so the k-th
 * request sent to a model is the same request under either policy.
 *
 * Priorities are stratified: every block of 20 consecutive requests holds exactly 1 high, 5
 * normal and 14 low (70 / 25 / 5 %), shuffled within the block. So the mix cannot drift with
 * the seed, while the order within a block is still random.
 */
import { seededRandom, type Priority } from "../../src/core/index.js";

export interface QueueRequestPlan {
  model: string;
  /** Position in this model's list (0-based). */
  index: number;
  priority: Priority;
  prompt: string;
  maxTokens: number;
}

export interface ScheduleOptions {
  seed: number;
  models: readonly string[];
  /** Requests per model: a bound on what one run can send. */
  length: number;
  maxTokens: number;
}

/** One block of 20: 1 high, 5 normal, 14 low. */
const priorityBlock: readonly Priority[] = [
  "high",
  ...Array.from({ length: 5 }, () => "normal" as const),
  ...Array.from({ length: 14 }, () => "low" as const),
];

const words = [
  "amber",
  "birch",
  "cedar",
  "dune",
  "ember",
  "fjord",
  "grove",
  "harbor",
  "island",
  "jasper",
  "kestrel",
  "lagoon",
  "meadow",
  "nectar",
  "orchard",
  "pebble",
  "quarry",
  "river",
  "summit",
  "thicket",
  "upland",
  "valley",
  "willow",
  "xenon",
  "yarrow",
  "zephyr",
];
const subjects = [
  "the old farmer",
  "a young sailor",
  "the village baker",
  "two tired travellers",
  "the quiet librarian",
  "a curious child",
];
const bodies = [
  "walked slowly down the dusty road toward the quiet village where the market was about to open",
  "looked out over the grey water and wondered whether the storm would reach the harbour before night",
  "counted the loaves on the long wooden table and began to plan the busy morning ahead",
  "followed the narrow path between the hills while the evening light faded behind them",
];

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)]!;
}

/**
 * Per model, `length` requests. Prompts start with a word and a number that differ from one
 * request to the next, so a runner's prefix cache reuses little more than the BOS token, as with
 * unrelated clients; they are 25–35 tokens long.
 */
export function makeSchedule(options: ScheduleOptions): Map<string, QueueRequestPlan[]> {
  const schedule = new Map<string, QueueRequestPlan[]>();
  options.models.forEach((model, modelIndex) => {
    const random = seededRandom(options.seed * 7919 + modelIndex);
    const plans: QueueRequestPlan[] = [];
    while (plans.length < options.length) {
      const block = [...priorityBlock];
      for (let index = block.length - 1; index > 0; index--) {
        const other = Math.floor(random() * (index + 1));
        [block[index], block[other]] = [block[other]!, block[index]!];
      }
      for (const priority of block) {
        if (plans.length === options.length) break;
        const index = plans.length;
        const prompt = `${pick(words, random)} ${index}: ${pick(subjects, random)} ${pick(bodies, random)}`;
        plans.push({ model, index, priority, prompt, maxTokens: options.maxTokens });
      }
    }
    schedule.set(model, plans);
  });
  return schedule;
}
