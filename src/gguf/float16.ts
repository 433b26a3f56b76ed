/** IEEE 754 half precision, for F16 tensors and Q8_0 block scales. */
const float32 = new Float32Array(1);
const float32Bits = new Uint32Array(float32.buffer);

/** The binary16 bits of `value`, rounded to nearest even; overflow gives ±Infinity. */
export function float32ToFloat16Bits(value: number): number {
  float32[0] = value;
  const bits = float32Bits[0] ?? 0;
  const sign = (bits >>> 16) & 0x8000;
  const exponent32 = (bits >>> 23) & 0xff;
  const mantissa32 = bits & 0x7fffff;
  if (exponent32 === 0xff) return sign | 0x7c00 | (mantissa32 === 0 ? 0 : 0x200);
  const exponent16 = exponent32 - 127 + 15;
  if (exponent16 >= 0x1f) return sign | 0x7c00;
  if (exponent16 <= 0) {
    // Subnormal half: value = half × 2^-24.
    if (exponent16 < -10) return sign;
    const shift = 14 - exponent16;
    return sign | roundShift(mantissa32 | 0x800000, shift);
  }
  // A carry out of the mantissa correctly bumps the exponent (up to Infinity).
  return sign | (((exponent16 << 10) | (mantissa32 >>> 13)) + roundingIncrement(mantissa32, 13));
}

function roundShift(value: number, shift: number): number {
  return (value >>> shift) + roundingIncrement(value, shift);
}

/** 1 when the bits shifted out round the kept part up (ties to even). */
function roundingIncrement(value: number, shift: number): number {
  const remainder = value & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  const isKeptOdd = ((value >>> shift) & 1) === 1;
  return remainder > halfway || (remainder === halfway && isKeptOdd) ? 1 : 0;
}

export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
