/**
 * Constants of the GGUF container format (ggml/docs/gguf.md): magic, versions, value types,
 * and the llama_ftype labels stored in `general.file_type`.
 */

/** "GGUF" read as a little-endian uint32. */
export const ggufMagic = 0x46554747;
export const supportedGgufVersions: readonly number[] = [2, 3];
/** Used when `general.alignment` is absent. */
export const defaultGgufAlignmentBytes = 32;
/** ggml keeps tensor names in `char name[64]`, NUL included. */
export const maxTensorNameBytes = 63;
/** ggml tensors have at most four dimensions (GGML_MAX_DIMS). */
export const maxTensorDimensions = 4;

export const ggufValueTypeNames = [
  "uint8",
  "int8",
  "uint16",
  "int16",
  "uint32",
  "int32",
  "float32",
  "bool",
  "string",
  "array",
  "uint64",
  "int64",
  "float64",
] as const;

export type GgufValueTypeName = (typeof ggufValueTypeNames)[number];

/** The value type's id in the file is its index in `ggufValueTypeNames`. */
export function ggufValueTypeId(name: GgufValueTypeName): number {
  return ggufValueTypeNames.indexOf(name);
}

/**
 * Fixed byte size of a value type, or for `string` and `array` the smallest possible encoding
 * (a uint64 length; an array adds its uint32 element type). Used to bound array lengths
 * against the bytes left in the file before anything is read or allocated.
 */
export const ggufValueMinimumBytes: Readonly<Record<GgufValueTypeName, number>> = {
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  float32: 4,
  bool: 1,
  string: 8,
  array: 12,
  uint64: 8,
  int64: 8,
  float64: 8,
};

/** llama_ftype (llama.h) → label; 4, 5, 6 and 33–35 were removed from llama.cpp but old files carry them. */
const fileTypeLabels: ReadonlyMap<number, string> = new Map([
  [0, "F32"],
  [1, "F16"],
  [2, "Q4_0"],
  [3, "Q4_1"],
  [4, "Q4_1_SOME_F16"],
  [5, "Q4_2"],
  [6, "Q4_3"],
  [7, "Q8_0"],
  [8, "Q5_0"],
  [9, "Q5_1"],
  [10, "Q2_K"],
  [11, "Q3_K_S"],
  [12, "Q3_K_M"],
  [13, "Q3_K_L"],
  [14, "Q4_K_S"],
  [15, "Q4_K_M"],
  [16, "Q5_K_S"],
  [17, "Q5_K_M"],
  [18, "Q6_K"],
  [19, "IQ2_XXS"],
  [20, "IQ2_XS"],
  [21, "Q2_K_S"],
  [22, "IQ3_XS"],
  [23, "IQ3_XXS"],
  [24, "IQ1_S"],
  [25, "IQ4_NL"],
  [26, "IQ3_S"],
  [27, "IQ3_M"],
  [28, "IQ2_S"],
  [29, "IQ2_M"],
  [30, "IQ4_XS"],
  [31, "IQ1_M"],
  [32, "BF16"],
  [33, "Q4_0_4_4"],
  [34, "Q4_0_4_8"],
  [35, "Q4_0_8_8"],
  [36, "TQ1_0"],
  [37, "TQ2_0"],
  [38, "MXFP4_MOE"],
  [39, "NVFP4"],
  [40, "Q1_0"],
  [41, "Q2_0"],
]);

/** The display label of a `general.file_type` value, e.g. 15 → "Q4_K_M"; unknown ids read as "unknown (N)". */
export function fileTypeLabel(fileTypeId: number): string {
  return fileTypeLabels.get(fileTypeId) ?? `unknown (${fileTypeId})`;
}
