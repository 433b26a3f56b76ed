/**
 * --draft-model (docs/decisions/0041): before a model loads with a draft model beside it, the
 * draft is resolved through the catalog and its vocabulary compared with the target's from both
 * GGUF headers. A draft of another vocabulary would propose token ids that mean other text: the
 * load is refused, naming both models and what differs.
 */
import { AppError } from "../core/index.js";
import { readVocabulary, vocabularyDifference, type Vocabulary } from "../gguf/index.js";
import type { ModelFile } from "../models/index.js";

export interface DraftModelRef {
  name: string;
  path: string;
}

export interface DraftModelCheck {
  /** The draft to load beside `target`; throws AppError("model-load-failed") when it cannot draft for it. */
  draftFor(target: { name: string; path: string }): Promise<DraftModelRef>;
}

export function draftModelCheck(options: {
  draftModel: string;
  resolve: (name: string) => Promise<ModelFile>;
}): DraftModelCheck {
  return {
    async draftFor(target) {
      let draft: ModelFile;
      try {
        draft = await options.resolve(options.draftModel);
      } catch (error) {
        const reason = error instanceof AppError ? error.message : "it could not be resolved";
        throw new AppError(
          "model-load-failed",
          `Model "${target.name}" was not loaded: its draft model "${options.draftModel}" (--draft-model) is not usable: ${reason} Fix or unset --draft-model.`,
          { cause: error },
        );
      }
      // Read at every load (milliseconds, even for a 150k-token vocabulary): either file may
      // have been replaced since the last one.
      const [targetVocabulary, draftVocabulary]: [Vocabulary, Vocabulary] = await Promise.all([
        readVocabulary(target.path),
        readVocabulary(draft.path),
      ]);
      const difference = vocabularyDifference(targetVocabulary, draftVocabulary, {
        target: target.name,
        draft: options.draftModel,
      });
      if (difference !== undefined) {
        throw new AppError(
          "model-load-failed",
          `Model "${target.name}" was not loaded: the draft model "${options.draftModel}" (--draft-model) cannot draft for it because their vocabularies differ: ${difference}. Use a draft model with the same tokenizer as "${target.name}" (a smaller model of the same family), or unset --draft-model.`,
        );
      }
      return { name: options.draftModel, path: draft.path };
    },
  };
}
