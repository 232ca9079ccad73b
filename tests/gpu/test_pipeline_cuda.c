// Text-to-video pipeline on CUDA vs CPU (label gpu; exits 77 without a GPU). Tiny random Wan2.1
// fixture model (scripts/gen_pipeline_fixtures.py). The same seed gives the same Philox noise on
// both devices; the CUDA DiT/umT5 run bf16 GEMMs and the VAE TF32, so frames differ slightly:
// frames compared as PSNR, and the CUDA frames vs diffusers' fp32 WanPipeline from the fixture's
// initial latent. Measured on the H200 (2026-11-28): 51.52 dB and 51.26 dB; bound 45 dB for both.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "apps/frame_sink_video.h"
#include "codecs/image.h"
#include "dit/pipeline.h"
#include "lib/safetensors.h"
#include "tests/pipeline_frames.h"
#include "tests/test_util.h"

#define NF 9
#define FH 32
#define FW 48
static char g_tmp[256];

static bool run_frames(vd_device_kind dev, const char *init, const char *name, uint8_t *frames) {
    char dir[512], pat[600], model[512];
    snprintf(dir, sizeof dir, "%s/%s", g_tmp, name);
    mkdir(dir, 0755);
    snprintf(pat, sizeof pat, "%s/%%04d.png", dir);
    snprintf(model, sizeof model, "%s", vt_src_path("tests/data/pipeline/model"));
    vd_gen_opts o;
    vd_gen_opts_init(&o);
    o.model = model;
    o.prompt = "A  red circle &amp; a blue square,   moving left ";
    o.negative_prompt = "blurred details, static";
    o.width = FW;
    o.height = FH;
    o.frames = NF;
    o.steps = 4;
    o.guidance = 5.0;
    o.seed = 11;
    o.device = dev;
    o.init_latent = init;
    o.output = pat;
    vd_frame_sink sink; // frames to PNG files through codecs
    vd_frame_sink_video sink_state;
    vd_frame_sink_video_init(&sink, &sink_state);
    o.sink = &sink;
    vd_error err = {0};
    vd_gen_plan plan;
    vd_gen_result res;
    if (vd_gen_prepare(&plan, &o, &err) || vd_gen_run(&plan, &res, &err)) {
        fprintf(stderr, "FAIL %s: %s\n", name, err.msg);
        vt_failures++;
        return false;
    }
    vd_gen_plan_free(&plan);
    if (!pt_read_png_frames(dir, NF, FW, FH, frames, name)) return false;
    return true;
}

int main(void) {
    if (!vt_have_gpu()) return VD_TEST_SKIP;
    snprintf(g_tmp, sizeof g_tmp, "/tmp/vdit_test_pipeline_cuda_XXXXXX");
    if (!mkdtemp(g_tmp)) return 1;
    const size_t n = (size_t)NF * FH * FW * 3;
    uint8_t *cpu = malloc(n), *gpu = malloc(n), *ref = malloc(n);
    if (run_frames(VD_DEVICE_CPU, NULL, "cpu", cpu) && run_frames(VD_DEVICE_CUDA, NULL, "cuda", gpu)) {
        double p = pt_psnr_u8(cpu, gpu, n);
        fprintf(stderr, "seed 11: CUDA vs CPU PSNR %.2f dB\n", p);
        VT_EXPECT(p >= 45.0);
    }
    char cases[512];
    snprintf(cases, sizeof cases, "%s", vt_src_path("tests/data/pipeline/cases.safetensors"));
    vd_st_file *f = NULL;
    vd_error err = {0};
    VT_EXPECT(vd_st_open(&f, cases, &err) == VD_OK);
    const vd_st_tensor *t = f ? vd_st_find(f, "expected_frames") : NULL;
    VT_EXPECT(t && (size_t)(t->end - t->begin) == n);
    if (t && run_frames(VD_DEVICE_CUDA, cases, "cuda_init", gpu)) {
        memcpy(ref, t->data, n);
        double p = pt_psnr_u8(gpu, ref, n);
        fprintf(stderr, "init latent: CUDA vs diffusers (fp32 CPU) PSNR %.2f dB\n", p);
        VT_EXPECT(p >= 45.0);
    }
    if (f) vd_st_close(f);
    free(cpu);
    free(gpu);
    free(ref);
    return vt_finish("test_pipeline_cuda");
}
