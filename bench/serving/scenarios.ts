/**
 * What to run: models × threads, with their prompts, token counts and repetitions, and the
 * per-rep prompts both variants share.
 */
import type { ModelKey } from "../lib/models.js";

export interface Scenario {
  model: ModelKey;
  threads: number;
  maxTokens: number;
  basePrompt: string;
  /** Each round is [direct block][server block]. */
  rounds: number;
  repsPerBlock: number;
  /** Run only when --threads names this scenario's thread count explicitly. */
  isOptIn?: boolean;
}

export interface ScenarioFilter {
  quick: boolean;
  models: readonly ModelKey[];
  threads: readonly number[] | undefined;
}

const storiesPrompt = "Once upon a time";
const syntheticPrompt =
  "the old farmer walked slowly down the dusty road toward the quiet village where his daughter was waiting with fresh bread and warm milk";

export function planScenarios(filter: ScenarioFilter): Scenario[] {
  const rounds = filter.quick ? 1 : 2;
  // 134M reps cost ~1.3 s on a quiet box and ~4 s on a busy one; stories reps ~0.2 s.
  const reps = filter.quick ? 2 : 4;
  const all: Scenario[] = [
    {
      model: "stories",
      threads: 1,
      maxTokens: 200,
      basePrompt: storiesPrompt,
      rounds,
      repsPerBlock: filter.quick ? 3 : 10,
    },
    // 2 threads on stories260K is known to be pathological (~20× slower per token, ~1 min per
    // block on a busy box): opt-in with `--models stories --threads 1,2`.
    {
      model: "stories",
      threads: 2,
      maxTokens: 200,
      basePrompt: storiesPrompt,
      rounds,
      repsPerBlock: filter.quick ? 1 : 2,
      isOptIn: true,
    },
    { model: "134m", threads: 1, maxTokens: 128, basePrompt: syntheticPrompt, rounds, repsPerBlock: reps },
    // 2 threads on 2 vCPUs swings 5–50 tok/s when anything else runs: fewer reps keep the bench under ~6 min.
    {
      model: "134m",
      threads: 2,
      maxTokens: 128,
      basePrompt: syntheticPrompt,
      rounds,
      repsPerBlock: filter.quick ? 2 : 3,
    },
  ];
  return all.filter(
    (scenario) =>
      filter.models.includes(scenario.model) &&
      (filter.threads?.includes(scenario.threads) ?? scenario.isOptIn !== true),
  );
}

/**
 * Rep prompts start with a word whose first letter differs from the previous prompt's, so the
 * server's runner, which keeps the longest cached token prefix of its sequence, can reuse only
 * the BOS token; the direct variant clears its sequence before every rep.
 */
const repWords = [
  "alpha",
  "bravo",
  "charlie",
  "delta",
  "echo",
  "foxtrot",
  "golf",
  "hotel",
  "india",
  "juliet",
  "kilo",
  "lima",
  "mike",
  "november",
  "oscar",
  "papa",
  "quebec",
  "romeo",
  "sierra",
  "tango",
  "uniform",
  "victor",
  "xray",
  "yankee",
  "zulu",
];

export function repPrompt(scenario: Scenario, rep: number): string {
  return `${repWords[rep % repWords.length]!} ${rep}: ${scenario.basePrompt}`;
}

export function warmupPrompt(scenario: Scenario): string {
  return `warm up: ${scenario.basePrompt}`;
}
