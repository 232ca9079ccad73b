// Helpers shared by the pipeline tests (cpu and gpu): read back the PNG frames a run wrote
// and compare clips by PSNR (codecs/metrics.h: all RGB channels, peak 255).
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Reads DIR/0001.png .. DIR/<nf>.png into frames [nf, fh, fw, 3]; false (with a FAIL line naming
// `name` and counted in vt_failures) when a frame is missing or has another size.
bool pt_read_png_frames(const char *dir, int nf, int fw, int fh, uint8_t *frames, const char *name);
// PSNR in dB over n bytes (+inf when equal).
double pt_psnr_u8(const uint8_t *a, const uint8_t *b, size_t n);
