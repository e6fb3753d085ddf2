/**
 * Image -> aligned face crops, runtime-agnostic (Node, workerd, browsers): no Node APIs here.
 *
 *   const photo = await Photo.open(bytes, { budget: { maxPixels } });  // ImageError: 415/422/413
 *   const detector = await FaceDetector.create(frontOnnx, backend, { backModel: backOnnx });
 *   const faces = await detectFaces(photo, detector);               // full-size pixels, largest first
 *   const spec = { template: card.alignment.template!, size: card.input.size };
 *   const [view] = await faceViews(photo, faces.slice(0, 1), [spec]); // re-reads a small face finer
 *   const crop = alignInView(view, faces[0].keypoints, spec);
 */
export { sniffImageType, type ImageType } from "./sniff";
export { decodeImage, DEFAULT_MAX_PIXELS, type DecodeOptions, type DecodedImage } from "./decode";
export { Photo, DEFAULT_PREVIEW_SIDE, type OpenOptions, type View } from "./photo";
export { detectFaces, faceViews, alignInView, MIN_SHRINK, type CropSpec } from "./crops";
export { DEFAULT_BUDGET, type DecodeBudget } from "./budget";
export { setWebPDecoderModule } from "./webp";
export { setJpegDecoderModule } from "./jpeg";
export { ImageError, type ImageErrorKind } from "./errors";
export { FaceDetector, type Face, type Point, type DetectorOptions } from "./detect";
export { alignFace, fitSimilarity, applySimilarity, warpSimilarity, type Similarity, type WarpOptions } from "./align";
export { resize } from "./resize";
export { createImage, flipHorizontal, type RgbImage } from "./image";
