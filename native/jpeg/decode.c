/*
 * The JPEG decoder the worker runs: libjpeg-turbo (IJG API) behind one call that decodes at a
 * DCT-domain scale (1/1, 1/2, 1/4, 1/8) and optionally only a region, so a 12 MP photo costs the
 * pixels the pipeline needs, not 12 MP. Built to wasm32 by build.sh; src/vision/jpeg/ drives it.
 *
 * Bounds: one WebAssembly instance per image whose linear memory has a fixed maximum (a malloc
 * past it fails and libjpeg stops with JERR_OUT_OF_MEMORY), libjpeg's own max_memory_to_use for
 * the whole-image coefficient arrays of progressive files, and a cap on the number of scans.
 * Errors never return: error_exit calls the host's `fail`, which throws, and the host then
 * discards the instance (no setjmp/longjmp needed in wasm).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "jpeglib.h"
#include "jerror.h"

#define EXPORT(name) __attribute__((export_name(name)))

__attribute__((import_module("env"), import_name("fail"))) void host_fail(int code);

/* Codes the host maps to messages; libjpeg's own codes are >= 0. */
#define FAIL_TOO_MANY_SCANS (-1)
#define FAIL_TABLES_ONLY (-2)
#define FAIL_NO_MEMORY (-3)

static int scan_limit;

static void error_exit(j_common_ptr cinfo) {
  host_fail(cinfo->err->msg_code);
  __builtin_unreachable();
}

/* Warnings (corrupt data that libjpeg can step over) are counted by emit_message, never printed. */
static void output_message(j_common_ptr cinfo) { (void)cinfo; }

/* Called at least once per scan: stops a file with thousands of scans before it costs seconds. */
static void progress_monitor(j_common_ptr cinfo) {
  if (((j_decompress_ptr)cinfo)->input_scan_number > scan_limit) host_fail(FAIL_TOO_MANY_SCANS);
}

/* Read by the host after jd_decode: [width, height, x offset, y offset, warnings, data pointer]. */
static uint32_t result[6];

EXPORT("jd_alloc") void *jd_alloc(uint32_t size) { return malloc(size); }

/*
 * Decodes `len` bytes at `src` to 8-bit RGB at 1/denom of its size (denom 1, 2, 4 or 8). A region
 * (rw > 0) in output pixels keeps only those rows and columns; libjpeg widens it to whole iMCUs on
 * the left, so the result's x offset may be smaller than rx. `mem_limit`: bytes libjpeg may use
 * for its large arrays. Returns the result block above.
 */
EXPORT("jd_decode")
uint32_t *jd_decode(const uint8_t *src, uint32_t len, int denom, int rx, int ry, int rw, int rh, int scans, uint32_t mem_limit) {
  struct jpeg_decompress_struct cinfo;
  struct jpeg_error_mgr jerr;
  struct jpeg_progress_mgr progress;
  cinfo.err = jpeg_std_error(&jerr);
  jerr.error_exit = error_exit;
  jerr.output_message = output_message;
  jpeg_create_decompress(&cinfo);
  cinfo.mem->max_memory_to_use = mem_limit;
  scan_limit = scans;
  progress.progress_monitor = progress_monitor;
  cinfo.progress = &progress;
  jpeg_mem_src(&cinfo, src, len);
  if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) host_fail(FAIL_TABLES_ONLY);

  int cmyk = cinfo.num_components == 4;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  cinfo.scale_num = 1;
  cinfo.scale_denom = denom;
  cinfo.dct_method = JDCT_ISLOW; /* what PIL (the training crops) uses */
  cinfo.do_fancy_upsampling = TRUE;
  jpeg_start_decompress(&cinfo);

  JDIMENSION x = 0, width = cinfo.output_width;
  JDIMENSION y = 0, height = cinfo.output_height;
  if (rw > 0 && rh > 0) {
    x = (JDIMENSION)rx < cinfo.output_width ? (JDIMENSION)rx : cinfo.output_width - 1;
    y = (JDIMENSION)ry < cinfo.output_height ? (JDIMENSION)ry : cinfo.output_height - 1;
    width = (JDIMENSION)rw < cinfo.output_width - x ? (JDIMENSION)rw : cinfo.output_width - x;
    height = (JDIMENSION)rh < cinfo.output_height - y ? (JDIMENSION)rh : cinfo.output_height - y;
    if (x > 0 || width < cinfo.output_width) jpeg_crop_scanline(&cinfo, &x, &width);
    if (y > 0) jpeg_skip_scanlines(&cinfo, y);
  }

  int channels = cinfo.output_components;
  uint8_t *out = malloc((size_t)width * height * 3);
  uint8_t *row = cmyk ? malloc((size_t)width * channels) : NULL;
  if (!out || (cmyk && !row)) host_fail(FAIL_NO_MEMORY);
  for (JDIMENSION r = 0; r < height; r++) {
    uint8_t *dst = out + (size_t)r * width * 3;
    JSAMPROW line = cmyk ? row : dst;
    if (jpeg_read_scanlines(&cinfo, &line, 1) != 1) host_fail(JERR_INPUT_EOF);
    if (cmyk) {
      /* Naive CMYK -> RGB, no ICC profile. Adobe's files store inverted ink (255 = none). */
      int inverted = cinfo.saw_Adobe_marker;
      for (JDIMENSION i = 0; i < width; i++) {
        int c = row[4 * i], m = row[4 * i + 1], yy = row[4 * i + 2], k = row[4 * i + 3];
        if (!inverted) { c = 255 - c; m = 255 - m; yy = 255 - yy; k = 255 - k; }
        dst[3 * i] = (uint8_t)((c * k + 127) / 255);
        dst[3 * i + 1] = (uint8_t)((m * k + 127) / 255);
        dst[3 * i + 2] = (uint8_t)((yy * k + 127) / 255);
      }
    }
  }
  result[0] = width;
  result[1] = height;
  result[2] = x;
  result[3] = y;
  result[4] = (uint32_t)jerr.num_warnings;
  result[5] = (uint32_t)(uintptr_t)out;
  /* The rows below the region are never decoded: abort instead of reading to the end. */
  jpeg_abort_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return result;
}
