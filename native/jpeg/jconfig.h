/* libjpeg-turbo 2.1.5 configured by hand for wasm32 (what CMake would write): 8-bit samples,
 * no SIMD, no arithmetic coding (rare, and more attack surface), in-memory source. */
#define JPEG_LIB_VERSION  62
#define LIBJPEG_TURBO_VERSION  2.1.5
#define LIBJPEG_TURBO_VERSION_NUMBER  2001005
#define MEM_SRCDST_SUPPORTED 1
#define BITS_IN_JSAMPLE  8
