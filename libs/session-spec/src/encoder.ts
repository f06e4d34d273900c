/**
 * Which video encoder a desktop uses, decided before its pod exists (the encoder is an
 * environment variable, and the pod's node is not known until the scheduler has run).
 *
 * GPU Feature Discovery has no NVENC label for full GPUs, so the platform keeps its own table of
 * GPU products with a hardware H.264 encoder, matched by product-name prefix. Data-centre compute
 * parts (A100, A30, H100, H200, B200) have none; desktops on them encode on the CPU (Selkies'
 * `h264enc` with `SELKIES_USE_CPU`), which needs a larger CPU request.
 */
import { SELKIES_ENCODERS, type Encoder, type EncoderDevice, type SelkiesEncoder } from '@vdi/crd-types';

/** Product-name prefixes (GFD `nvidia.com/gpu.product`, without `-SHARED`) of GPUs with NVENC. */
export const NVENC_PRODUCT_PREFIXES = [
  'Tesla-T4',
  'Tesla-V100',
  'Tesla-P4',
  'Tesla-P40',
  'NVIDIA-A2',
  'NVIDIA-A10',
  'NVIDIA-A10G',
  'NVIDIA-A16',
  'NVIDIA-A40',
  'NVIDIA-L4',
  'NVIDIA-L40',
  'NVIDIA-L40S',
  'NVIDIA-RTX',
  'NVIDIA-GeForce',
  'Quadro',
] as const;

/** GFD appends `-SHARED` to the product of a time-sliced GPU that is not renamed. */
export function baseProduct(product: string): string {
  return product.replace(/-SHARED$/, '');
}

/**
 * True when the GPU product has NVENC. A prefix must end at a `-` or the end of the name, so
 * `NVIDIA-A10` matches `NVIDIA-A10-24GB`... but never `NVIDIA-A100-SXM4-40GB`.
 */
export function hasNvenc(product: string): boolean {
  const p = baseProduct(product);
  return NVENC_PRODUCT_PREFIXES.some((prefix) => p === prefix || p.startsWith(`${prefix}-`));
}

/** Free GPU time-slices per product label value, as the operator counts them from its caches. */
export interface GpuFacts {
  products: { product: string; free: number; total: number }[];
}

/**
 * The decision recorded in the session's status: the Selkies encoder, where it runs (NVENC or the
 * CPU, which sets `SELKIES_USE_CPU` and a larger CPU request), and — when the desktop must land on
 * NVENC GPUs — the product label values its pod's node affinity allows.
 */
export interface EncoderPlan {
  encoder: SelkiesEncoder;
  device: EncoderDevice;
  gpuProducts?: string[];
}

/** Encoders Selkies 2.x runs on NVENC when the GPU has one; every other encoder runs on the CPU. */
const NVENC_CAPABLE: readonly Encoder[] = ['auto', 'h264enc'];

/**
 * Chooses the encoder for a session. H.264 (`auto` or `h264enc`) prefers NVENC when an
 * NVENC-capable time-slice is free and falls back to the CPU otherwise, so a desktop never waits
 * for NVENC while other GPUs have room. Any other encoder runs on the CPU.
 */
export function chooseEncoder(requested: Encoder, gpu: number, facts: GpuFacts): EncoderPlan {
  const encoder: SelkiesEncoder = requested === 'auto' ? 'h264enc' : requested;
  if (gpu === 0 || !NVENC_CAPABLE.includes(requested)) return { encoder, device: 'cpu' };
  const nvencProducts = facts.products
    .filter((p) => hasNvenc(p.product))
    .map((p) => p.product)
    .sort();
  const nvencFree = facts.products.some((p) => hasNvenc(p.product) && p.free > 0);
  return nvencFree ? { encoder, device: 'nvenc', gpuProducts: nvencProducts } : { encoder, device: 'cpu' };
}

/** A plan read back from a pod annotation, or undefined when it is not one this version wrote. */
export function parseEncoderPlan(raw: string | undefined): EncoderPlan | undefined {
  if (!raw) return undefined;
  try {
    const p = JSON.parse(raw) as Partial<EncoderPlan>;
    if (!p || !(SELKIES_ENCODERS as readonly string[]).includes(p.encoder ?? '')) return undefined;
    if (p.device !== 'nvenc' && p.device !== 'cpu') return undefined;
    return {
      encoder: p.encoder!,
      device: p.device,
      ...(Array.isArray(p.gpuProducts) ? { gpuProducts: p.gpuProducts.map(String) } : {}),
    };
  } catch {
    return undefined;
  }
}
