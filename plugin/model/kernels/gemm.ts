/**
 * The SIMD matrix products of gemm.wat over one private memory. Each workspace gets its own instance and memory,
 * sized once, so float views stay valid (a memory that grows detaches them) and workspaces never share buffers.
 * Offsets and sizes are in floats; the vectorised dimension must be a multiple of 4.
 */
import { GEMM_WASM_BASE64 } from './gemm-wasm.js';

type Product = (a: number, b: number, c: number, m: number, k: number, n: number) => void;

export interface Gemm {
  /** The whole memory as floats. */
  f32: Float32Array;
  /** C[m×n] += A[m×k] · B[k×n]; n % 4 = 0. */
  nn: Product;
  /** C[k×n] += A[m×k]ᵀ · B[m×n]; n % 4 = 0. */
  tn: Product;
  /** C[m×n] += A[m×k] · B[n×k]ᵀ; k % 4 = 0. */
  nt: Product;
}

/** The part of the WebAssembly API used here; TypeScript's Node types declare only its namespace. */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const PAGE_FLOATS = 65536 / 4;
let compiled: object | undefined;

export function createGemm(floats: number): Gemm {
  compiled ??= new wasm.Module(Buffer.from(GEMM_WASM_BASE64, 'base64'));
  const memory = new wasm.Memory({ initial: Math.max(1, Math.ceil(floats / PAGE_FLOATS)) });
  const exports = new wasm.Instance(compiled, { env: { memory } }).exports as Record<string, Product>;
  // The kernels take byte addresses.
  const wrap = (product: Product, vectorised: 'n' | 'k'): Product => (a, b, c, m, k, n) => {
    if ((vectorised === 'n' ? n : k) % 4 !== 0) throw new Error(`gemm: the vectorised dimension ${vectorised} must be a multiple of 4`);
    product(a * 4, b * 4, c * 4, m, k, n);
  };
  return {
    f32: new Float32Array(memory.buffer),
    nn: wrap(exports.gemm_nn!, 'n'),
    tn: wrap(exports.gemm_tn!, 'n'),
    nt: wrap(exports.gemm_nt!, 'k'),
  };
}
