// bench_pipeline: `vdit generate` end to end (text encode, 50-step CFG denoise, VAE decode, write)
// vs diffusers' WanPipeline on the same random weights, settings and initial latent.
// The anchor (bench/anchors/pipeline_diffusers.py) builds and saves the model folder, writes
// DIR/init_latent.safetensors, times diffusers per stage with peak GPU memory, and saves its
// frames; this program runs vdit's pipeline (dit/pipeline.h) on the same folder and latent,
// writes the frames as PNGs (lossless; the write stage is timed on its own), compares them with
// diffusers' (PSNR over all frames), and appends a markdown section to the results file.
//
//   bench_pipeline --model DIR --anchor ANCHOR.json --frames FRAMES.safetensors [--device cuda]
//                  [--label 1.3B] [--results bench/results/pipeline_<date>.md] [--attention NAME]
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "apps/frame_sink_video.h"
#include "codecs/image.h"
#include "dit/pipeline.h"
#include "lib/progress.h"
#include "lib/safetensors.h"

static double jnum(const cJSON *j, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static const char *jstr(const cJSON *j, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static char *read_all(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    if (b) b[n] = 0;
    fclose(f);
    return b;
}

// PSNR (dB) of vdit's PNG frames in dir vs the anchor's uint8 [F, H, W, 3]; -1 on a read error.
static double frames_psnr(const char *dir, const vd_st_tensor *ref, int F, int H, int W) {
    double se = 0;
    const uint8_t *r = ref->data;
    for (int f = 0; f < F; f++) {
        char p[700];
        snprintf(p, sizeof p, "%s/%04d.png", dir, f + 1);
        uint8_t *rgb = NULL;
        int w = 0, h = 0;
        vd_error err = {0};
        if (vd_image_read(p, &rgb, &w, &h, &err) || w != W || h != H) {
            fprintf(stderr, "bench_pipeline: frame %s: %s\n", p, err.msg);
            free(rgb);
            return -1;
        }
        const size_t n = (size_t)H * W * 3;
        for (size_t i = 0; i < n; i++) {
            double d = (double)rgb[i] - r[(size_t)f * n + i];
            se += d * d;
        }
        free(rgb);
    }
    double mse = se / ((double)F * H * W * 3);
    return mse == 0 ? INFINITY : 10 * log10(255.0 * 255.0 / mse);
}

int main(int argc, char **argv) {
    const char *model = NULL, *anchor = NULL, *frames = NULL, *label = "1.3B", *results = NULL, *device = "cuda",
               *attention = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--model")) model = argv[i + 1];
        else if (!strcmp(argv[i], "--anchor")) anchor = argv[i + 1];
        else if (!strcmp(argv[i], "--frames")) frames = argv[i + 1];
        else if (!strcmp(argv[i], "--label")) label = argv[i + 1];
        else if (!strcmp(argv[i], "--results")) results = argv[i + 1];
        else if (!strcmp(argv[i], "--device")) device = argv[i + 1];
        else if (!strcmp(argv[i], "--attention")) attention = argv[i + 1];
        else { fprintf(stderr, "bench_pipeline: unknown option %s\n", argv[i]); return 2; }
    }
    if (!model || !anchor || !frames) {
        fprintf(stderr, "usage: bench_pipeline --model DIR --anchor ANCHOR.json --frames FRAMES.safetensors [--device cuda] "
                        "[--label L] [--results FILE.md] [--attention NAME]\n");
        return 2;
    }
    char *txt = read_all(anchor);
    cJSON *a = txt ? cJSON_Parse(txt) : NULL;
    free(txt);
    if (!a) { fprintf(stderr, "bench_pipeline: cannot read %s\n", anchor); return 1; }
    vd_gen_opts o;
    vd_gen_opts_init(&o);
    o.model = model;
    o.prompt = jstr(a, "prompt");
    o.negative_prompt = jstr(a, "negative_prompt");
    o.width = (int)jnum(a, "width");
    o.height = (int)jnum(a, "height");
    o.frames = (int)jnum(a, "frames");
    o.steps = (int)jnum(a, "steps");
    o.guidance = jnum(a, "guidance");
    o.attention = attention;
    if (vd_device_from_name(device, &o.device)) { fprintf(stderr, "bench_pipeline: bad --device\n"); return 2; }
    char init[4096], dir[] = "/tmp/vdit_bench_pipeline_XXXXXX", pat[64];
    snprintf(init, sizeof init, "%s/init_latent.safetensors", model);
    o.init_latent = init;
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    snprintf(pat, sizeof pat, "%s/%%04d.png", dir);
    o.output = pat;
    vd_frame_sink sink; // frames to PNG files through codecs, as `vdit generate` does
    static vd_frame_sink_video sink_state;
    vd_frame_sink_video_init(&sink, &sink_state);
    o.sink = &sink;
    vd_error err = {0};
    vd_gen_plan plan;
    vd_gen_result r;
    if (vd_gen_prepare(&plan, &o, &err) || vd_gen_run(&plan, &r, &err)) {
        fprintf(stderr, "bench_pipeline: %s\n", err.msg);
        return 1;
    }
    vd_st_file *ff = NULL;
    double psnr = -1;
    if (vd_st_open(&ff, frames, &err) == VD_OK) {
        const vd_st_tensor *t = vd_st_find(ff, "frames");
        if (t && t->dtype == VD_U8 && t->ndim == 4 && t->shape[0] == o.frames && t->shape[1] == o.height && t->shape[2] == o.width)
            psnr = frames_psnr(dir, t, o.frames, o.height, o.width);
        else fprintf(stderr, "bench_pipeline: %s has no uint8 frames [%d, %d, %d, 3]\n", frames, o.frames, o.height, o.width);
        vd_st_close(ff);
    } else {
        fprintf(stderr, "bench_pipeline: %s\n", err.msg);
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "bench_pipeline: could not remove %s\n", dir);

    const double d_enc = jnum(a, "encode_s"), d_den = jnum(a, "denoise_s"), d_dec = jnum(a, "decode_s"), d_tot = jnum(a, "total_s");
    const double v_tot = r.encode_s + r.denoise_s + r.decode_s;
    char pk_v[32], pk_e[32], pk_dn[32], pk_dc[32];
    vd_format_bytes(r.peak_device_bytes, pk_v, sizeof pk_v);
    vd_format_bytes((size_t)fmax(0, jnum(a, "encode_peak_bytes")), pk_e, sizeof pk_e);
    vd_format_bytes((size_t)fmax(0, jnum(a, "denoise_peak_bytes")), pk_dn, sizeof pk_dn);
    vd_format_bytes((size_t)fmax(0, jnum(a, "decode_peak_bytes")), pk_dc, sizeof pk_dc);
    char sec[4096];
    time_t now = time(NULL);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    snprintf(sec, sizeof sec,
             "## %s: %dx%d, %d frames, %d steps, guidance %g (%s), %s attention, %s (%s)\n\n"
             "Random weights (bench/anchors/pipeline_diffusers.py: DiT %s bf16, small random UMT5 d_model 4096, Wan2.1 VAE fp32); "
             "both engines start from the same init latent. diffusers %s, torch %s on %s.\n\n"
             "| stage | vdit s | diffusers s | vdit / diffusers |\n|---|---|---|---|\n"
             "| text encode | %.2f | %.2f | %.2f |\n| denoise | %.2f | %.2f | %.2f |\n| VAE decode | %.2f | %.2f | %.2f |\n"
             "| encode + denoise + decode | %.2f | %.2f | %.2f |\n| weight loading (vdit: DiT + VAE) | %.2f | %.2f | |\n"
             "| frame writing (vdit: PNG) | %.2f | - | |\n\n"
             "Peak GPU memory: vdit %s (largest of DiT and VAE phases); diffusers encode %s, denoise %s, decode %s. "
             "Host peak RSS (vdit) %.2f GiB.\n\nvdit frames vs diffusers frames: PSNR %.2f dB.\n\n",
             label, o.width, o.height, o.frames, o.steps, o.guidance, plan.cfg ? "CFG" : "no CFG", attention ? attention : "dense",
             device, when, label, jstr(a, "diffusers"), jstr(a, "torch"), jstr(a, "device"), r.encode_s, d_enc, r.encode_s / d_enc,
             r.denoise_s, d_den, r.denoise_s / d_den, r.decode_s, d_dec, r.decode_s / d_dec, v_tot, d_tot, v_tot / d_tot, r.load_s,
             jnum(a, "load_s"), r.write_s, pk_v, pk_e, pk_dn, pk_dc, r.peak_host_bytes / 1073741824.0, psnr);
    fputs(sec, stdout);
    if (results) {
        FILE *f = fopen(results, "a");
        if (!f) { perror(results); return 1; }
        fputs(sec, f);
        fclose(f);
        fprintf(stderr, "bench_pipeline: appended to %s\n", results);
    }
    vd_gen_plan_free(&plan);
    cJSON_Delete(a);
    return 0;
}
