/**
 * A keyed pseudo-random bijection over [0, size): the scan order.
 *
 * Why this design:
 * - Scanning in address order hammers one network at a time and looks like an attack on it;
 *   a random order spreads load across networks and ports of one host across time.
 * - A /8 × several ports is tens of millions of items, so shuffling an array is out. A Feistel
 *   network is a bijection for *any* round function, needs O(1) memory and gives random access:
 *   `at(p)` is computed directly, which is what resume (start at position p) and `item(p)` need.
 * - Feistel networks permute a power-of-two domain. To permute [0, size) we take the smallest
 *   2^k ≥ size and "cycle-walk" (Black & Rogaway, 2002): re-encrypt until the value falls below
 *   size. Following a cycle of a bijection from a point inside [0, size) must come back inside,
 *   so the restriction is again a bijection; as 2^k < 2·size the expected number of steps is < 2.
 * - k may be odd, so the network is unbalanced: halves of ceil(k/2) and floor(k/2) bits swap
 *   sizes every round and an even round count restores them.
 * - Keys come only from the seed, so the order is deterministic for a seed (resume relies on it).
 *   This is for spreading, not secrecy: the round function is a 32-bit integer hash, not a cipher.
 */

const ROUNDS = 6;
/** Halves stay ≤ 27 bits so every round is plain 32-bit integer arithmetic. */
const MAX_SIZE = Number.MAX_SAFE_INTEGER;

/** The murmur3 finaliser: a cheap 32-bit mix with full avalanche. */
function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class Permutation {
  readonly size: number;
  private readonly leftBits: number;
  private readonly rightBits: number;
  private readonly keys: number[];

  constructor(size: number, seed: number) {
    if (!Number.isSafeInteger(size) || size < 0 || size > MAX_SIZE) {
      throw new RangeError(`Permutation size must be an integer in 0..${MAX_SIZE}, got ${size}`);
    }
    if (!Number.isSafeInteger(seed)) throw new RangeError(`Permutation seed must be a safe integer, got ${seed}`);
    this.size = size;
    let bits = 2; // at least one bit per half
    while (2 ** bits < size) bits++;
    this.leftBits = Math.ceil(bits / 2);
    this.rightBits = Math.floor(bits / 2);
    const lo = seed % 2 ** 32 >>> 0;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    const base = mix32(lo ^ mix32(hi + 0x9e3779b9));
    this.keys = Array.from({ length: ROUNDS }, (_, i) => mix32(base + Math.imul(i + 1, 0x9e3779b9)));
  }

  /** The value at position `index`; every value in [0, size) appears at exactly one position. */
  at(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new RangeError(`Position ${index} is outside 0..${this.size - 1}`);
    }
    let x = index;
    do x = this.encrypt(x);
    while (x >= this.size);
    return x;
  }

  private encrypt(x: number): number {
    let leftBits = this.leftBits;
    let rightBits = this.rightBits;
    const rightPow = 2 ** rightBits;
    let right = x % rightPow;
    let left = (x - right) / rightPow;
    for (const key of this.keys) {
      // (L, R) → (R, L ⊕ F(R)): invertible whatever F is, so the whole network is a bijection.
      const f = mix32(Math.imul(right, 0x9e3779b1) ^ key);
      const next = (left ^ f) & (2 ** leftBits - 1);
      left = right;
      right = next >>> 0;
      [leftBits, rightBits] = [rightBits, leftBits];
    }
    return left * 2 ** rightBits + right;
  }
}
