/**
 * Image -> aligned face crops, runtime-agnostic (Node, workerd, browsers): no Node APIs here.
 *
 *   const image = await decodeImage(bytes, { maxPixels });          // ImageError: 415/422/413
 *   const detector = await FaceDetector.create(frontOnnx, backend, { backModel: backOnnx });
 *   const faces = await detector.detect(image);                     // largest first
 *   const crop = alignFace(image, faces[0].keypoints, card.alignment.template!, card.input.size);
 */
export { sniffImageType, type ImageType } from "./sniff";
export { decodeImage, DEFAULT_MAX_PIXELS, type DecodeOptions, type DecodedImage } from "./decode";
export { setWebPDecoderModule } from "./webp";
export { ImageError, type ImageErrorKind } from "./errors";
export { FaceDetector, type Face, type Point, type DetectorOptions } from "./detect";
export { alignFace, fitSimilarity, applySimilarity, warpSimilarity, type Similarity, type WarpOptions } from "./align";
export { resize } from "./resize";
export { createImage, flipHorizontal, type RgbImage } from "./image";
