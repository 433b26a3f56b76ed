/**
 * The ggml tensor types a GGUF file may use, with block size and bytes per block.
 * Values come from ggml.h (`enum ggml_type`) and ggml.c (`type_traits`) of the llama.cpp release
 * bundled with node-llama-cpp 3.21.1; block byte sizes were checked with `sizeof(block_*)`.
 */
export interface GgmlType {
  /** The numeric id stored in a tensor info. */
  id: number;
  /** Upper-case name, as llama.cpp prints it in file type labels (`Q8_0`, `Q4_K`). */
  name: string;
  /** Elements per block; a row (first dimension) must be a multiple of it. */
  blockElements: number;
  bytesPerBlock: number;
}

const typeRows: readonly (readonly [number, string, number, number])[] = [
  [0, "F32", 1, 4],
  [1, "F16", 1, 2],
  [2, "Q4_0", 32, 18],
  [3, "Q4_1", 32, 20],
  [6, "Q5_0", 32, 22],
  [7, "Q5_1", 32, 24],
  [8, "Q8_0", 32, 34],
  [9, "Q8_1", 32, 36],
  [10, "Q2_K", 256, 84],
  [11, "Q3_K", 256, 110],
  [12, "Q4_K", 256, 144],
  [13, "Q5_K", 256, 176],
  [14, "Q6_K", 256, 210],
  [15, "Q8_K", 256, 292],
  [16, "IQ2_XXS", 256, 66],
  [17, "IQ2_XS", 256, 74],
  [18, "IQ3_XXS", 256, 98],
  [19, "IQ1_S", 256, 50],
  [20, "IQ4_NL", 32, 18],
  [21, "IQ3_S", 256, 110],
  [22, "IQ2_S", 256, 82],
  [23, "IQ4_XS", 256, 136],
  [24, "I8", 1, 1],
  [25, "I16", 1, 2],
  [26, "I32", 1, 4],
  [27, "I64", 1, 8],
  [28, "F64", 1, 8],
  [29, "IQ1_M", 256, 56],
  [30, "BF16", 1, 2],
  [34, "TQ1_0", 256, 54],
  [35, "TQ2_0", 256, 66],
  [39, "MXFP4", 32, 17],
  [40, "NVFP4", 64, 36],
  [41, "Q1_0", 128, 18],
  [42, "Q2_0", 64, 18],
];

/** Every ggml type llama.cpp can load, by id. */
export const ggmlTypes: ReadonlyMap<number, GgmlType> = new Map(
  typeRows.map(([id, name, blockElements, bytesPerBlock]) => [
    id,
    Object.freeze({ id, name, blockElements, bytesPerBlock }),
  ]),
);

const typesByName = new Map([...ggmlTypes.values()].map((type) => [type.name, type]));

/**
 * Ids that once existed and were removed from GGUF files (Q4_2, Q4_3, the Q4_0_x_y and IQ4_NL_x_y
 * repacked layouts). llama.cpp refuses them, so they get their own message.
 */
export const removedGgmlTypeIds: ReadonlyMap<number, string> = new Map([
  [4, "Q4_2"],
  [5, "Q4_3"],
  [31, "Q4_0_4_4"],
  [32, "Q4_0_4_8"],
  [33, "Q4_0_8_8"],
  [36, "IQ4_NL_4_4"],
  [37, "IQ4_NL_4_8"],
  [38, "IQ4_NL_8_8"],
]);

/** Looks a type up by its upper-case name (`"Q8_0"`) or its lower-case ggml name (`"q8_0"`). */
export function findGgmlTypeByName(name: string): GgmlType | undefined {
  return typesByName.get(name.toUpperCase());
}

/** Bytes a tensor of `elementCount` elements takes; the caller has checked block divisibility. */
export function tensorByteCount(type: GgmlType, elementCount: number): number {
  return (elementCount / type.blockElements) * type.bytesPerBlock;
}
