/**
 * Bounds the header reader enforces before it allocates or loops on a length read from an
 * untrusted file. Every default is far above what published models use.
 */
export interface GgufLimits {
  /** Most tensor infos a header may declare. Default 65,536. */
  maxTensorCount: number;
  /** Most metadata key/value pairs a header may declare. Default 65,536. */
  maxKeyValueCount: number;
  /** Longest metadata key, in bytes. Default 65,535. */
  maxKeyBytes: number;
  /** Longest string value (also each string inside an array), in bytes. Default 1 MiB. */
  maxStringBytes: number;
  /**
   * Longest token in `tokenizer.ggml.tokens`, in bytes. Default 4 KiB: published vocabularies
   * stay far below (byte-level BPE tokens are at most a few hundred bytes, SentencePiece pieces
   * 16 characters unless user-defined).
   */
  maxTokenBytes: number;
  /** Most elements in one metadata array. Default 16,777,216. */
  maxArrayLength: number;
  /** Deepest nesting of arrays inside arrays; 1 allows no nesting. Default 2. */
  maxArrayDepth: number;
  /** Largest header (magic to the end of the tensor infos), in bytes. Default 256 MiB. */
  maxHeaderBytes: number;
  /** Arrays longer than this are summarised as `{type: "array", elementType, length}`. Default 64. */
  maxKeptArrayLength: number;
  /** Bytes read from the file per read call. Default 256 KiB. */
  readChunkBytes: number;
}

export const defaultGgufLimits: Readonly<GgufLimits> = Object.freeze({
  maxTensorCount: 65_536,
  maxKeyValueCount: 65_536,
  maxKeyBytes: 65_535,
  maxStringBytes: 1024 * 1024,
  maxTokenBytes: 4 * 1024,
  maxArrayLength: 16 * 1024 * 1024,
  maxArrayDepth: 2,
  maxHeaderBytes: 256 * 1024 * 1024,
  maxKeptArrayLength: 64,
  readChunkBytes: 256 * 1024,
});
