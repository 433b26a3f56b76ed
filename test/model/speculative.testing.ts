/** Greedy /v1/completions on stories260K with the drafted and accepted counts usage reports (ADR 0031, 0041). */
import { expect } from "vitest";
import { postJson } from "./helpers.js";

export const storyStart = "Once upon a time there was a little girl named Lily.";
export const freePrompt = "The dog ran to the park with a big red ball.";

export interface Completion {
  text: string;
  /** Drafted tokens (accepted + rejected); undefined when the request did not speculate. */
  drafted: number | undefined;
  accepted: number | undefined;
}

export async function completeGreedy(url: string, prompt: string, maxTokens: number): Promise<Completion> {
  const response = await postJson(`${url}/v1/completions`, {
    model: "stories260K",
    prompt,
    max_tokens: maxTokens,
    temperature: 0,
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as {
    choices: { text: string }[];
    usage: {
      completion_tokens_details?: { accepted_prediction_tokens: number; rejected_prediction_tokens: number };
    };
  };
  const details = body.usage.completion_tokens_details;
  return {
    text: body.choices[0]!.text,
    accepted: details?.accepted_prediction_tokens,
    drafted:
      details === undefined
        ? undefined
        : details.accepted_prediction_tokens + details.rejected_prediction_tokens,
  };
}
