/**
 * Which video encoder a desktop uses, decided before its pod exists (the encoder is an
 * environment variable, and the pod's node is not known until the scheduler has run).
 *
 * GPU Feature Discovery has no NVENC label for full GPUs, so the platform keeps its own table of
 * GPU products with a hardware H.264 encoder, matched by product-name prefix. Data-centre compute
 * parts (A100, A30, H100, H200, B200) have none; desktops on them encode on the CPU (x264enc),
 * which needs a larger CPU request.
 */
import type { Encoder } from '@vdi/crd-types';
import { SessionSpecError } from './errors.js';

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
 * The decision recorded in the session's status: the encoder, and — when the desktop must land
 * on particular GPUs — the product label values its pod's node affinity allows.
 */
export interface EncoderPlan {
  encoder: Exclude<Encoder, 'auto'>;
  gpuProducts?: string[];
}

const HARDWARE_ENCODERS: readonly Encoder[] = ['nvh264enc'];

/**
 * Chooses the encoder for a session: `auto` prefers NVENC when an NVENC-capable time-slice is
 * free and falls back to CPU encoding otherwise, so a desktop never waits for NVENC while other
 * GPUs have room. An explicit encoder is honoured; NVENC then restricts placement to NVENC GPUs.
 */
export function chooseEncoder(requested: Encoder, gpu: number, facts: GpuFacts): EncoderPlan {
  const nvencProducts = facts.products
    .filter((p) => hasNvenc(p.product))
    .map((p) => p.product)
    .sort();
  if (gpu === 0) {
    if (HARDWARE_ENCODERS.includes(requested)) {
      throw new SessionSpecError(
        'spec.resources.gpu',
        `the template asks for the ${requested} GPU encoder, but the session has no GPU; ask for gpu: 1 or use a template with encoder auto or x264enc`,
      );
    }
    return { encoder: requested === 'auto' ? 'x264enc' : requested };
  }
  if (requested === 'auto') {
    const nvencFree = facts.products.some((p) => hasNvenc(p.product) && p.free > 0);
    return nvencFree ? { encoder: 'nvh264enc', gpuProducts: nvencProducts } : { encoder: 'x264enc' };
  }
  if (HARDWARE_ENCODERS.includes(requested)) {
    if (nvencProducts.length === 0) {
      throw new SessionSpecError(
        'template.spec.encoder',
        `the template asks for ${requested}, but no GPU node in the cluster has NVENC (GPUs here: ${facts.products.map((p) => baseProduct(p.product)).join(', ') || 'none'}); use encoder auto`,
      );
    }
    return { encoder: requested, gpuProducts: nvencProducts };
  }
  return { encoder: requested };
}
