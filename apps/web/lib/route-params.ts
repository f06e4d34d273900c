/**
 * A dynamic route segment as text. Next.js hands segments over still percent-encoded in some
 * versions and decoded in others; decoding twice must not fail on a literal "%".
 */
export function segmentText(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
