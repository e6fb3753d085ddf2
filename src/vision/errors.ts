/**
 * Why an upload cannot become pixels. The API maps the kind to a status:
 * "unsupported" -> 415, "undecodable" -> 422, "too_large" -> 413.
 */
export type ImageErrorKind = "unsupported" | "undecodable" | "too_large";

export class ImageError extends Error {
  readonly kind: ImageErrorKind;
  constructor(kind: ImageErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ImageError";
    this.kind = kind;
  }
}
