// Text-to-video pipeline (dit/pipeline.h) on the CPU with a tiny random Wan2.1 model saved by
// diffusers' WanPipeline.save_pretrained (scripts/gen_pipeline_fixtures.py):
//   parity     same initial latent, prompt, negative prompt, steps, guidance, scheduler shift:
//              vdit's frames vs the frames diffusers' WanPipeline returned (PSNR >= 40 dB)
//   seed       two runs with one seed are bit-equal; another seed gives other frames; the saved
//              latent holds the Philox noise of the seed
//   defaults   shift from scheduler_config.json; vdit.json over the built-ins; caller over vdit.json
//   sidecar    the JSON next to the output names the settings that reproduce the run
//   validation bad frames/sizes/method/option/model/output/init latent fail in prepare, leaving no file
//   sink       the frame-sink contract (dit/pipeline.h): an in-memory sink gets the same frames as the
//              PNG files, calls in order (open, NF writes, close), a failing write aborts with no
//              sidecar, missing callbacks are refused, and a failed sidecar removes the output
// Frames are written as PNG (lossless RGB) and read back.
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apps/frame_sink_video.h"
#include "codecs/image.h"
#include "dit/pipeline.h"
#include "lib/rng.h"
#include "lib/safetensors.h"
#include "tests/pipeline_frames.h"
#include "tests/test_util.h"

#define NF 9
#define FH 32
#define FW 48
static const char *PROMPT = "A  red circle &amp; a blue square,   moving left ";
static const char *NEG = "blurred details, static";
static char g_tmp[256];
static vd_frame_sink g_sink;           // frames to files through codecs (apps/frame_sink_video.h)
static vd_frame_sink_video g_sink_state;

static void base_opts(vd_gen_opts *o, const char *out) {
    vd_gen_opts_init(o);
    o->model = vt_src_path("tests/data/pipeline/model");
    o->model = strdup(o->model); // vt_src_path returns a static buffer
    o->prompt = PROMPT;
    o->negative_prompt = NEG;
    o->width = FW;
    o->height = FH;
    o->frames = NF;
    o->steps = 4;
    o->guidance = 5.0;
    o->output = out;
    o->sink = &g_sink;
}

// Runs the pipeline into DIR/%04d.png and reads the frames back: u8 [NF, FH, FW, 3].
static bool run_frames(vd_gen_opts *o, const char *name, uint8_t *frames, vd_gen_plan *plan_out) {
    char dir[512], pat[600];
    snprintf(dir, sizeof dir, "%s/%s", g_tmp, name);
    mkdir(dir, 0755);
    snprintf(pat, sizeof pat, "%s/%%04d.png", dir);
    o->output = pat;
    vd_error err = {0};
    vd_gen_plan plan;
    vd_gen_result res;
    if (vd_gen_prepare(&plan, o, &err) || vd_gen_run(&plan, &res, &err)) {
        fprintf(stderr, "FAIL %s: %s\n", name, err.msg);
        vt_failures++;
        return false;
    }
    if (plan_out) *plan_out = plan;
    else vd_gen_plan_free(&plan);
    VT_EXPECT(res.frames_written == NF);
    if (!pt_read_png_frames(dir, NF, FW, FH, frames, name)) return false;
    return true;
}

static void test_parity(void) {
    const size_t n = (size_t)NF * FH * FW * 3;
    uint8_t *got = malloc(n), *ref = malloc(n);
    vd_error err = {0};
    vd_st_file *f = NULL;
    char cases[512];
    snprintf(cases, sizeof cases, "%s", vt_src_path("tests/data/pipeline/cases.safetensors"));
    VT_EXPECT(vd_st_open(&f, cases, &err) == VD_OK);
    const vd_st_tensor *t = f ? vd_st_find(f, "expected_frames") : NULL;
    VT_EXPECT(t && t->dtype == VD_U8 && (size_t)(t->end - t->begin) == n);
    if (t) memcpy(ref, t->data, n);
    vd_gen_opts o;
    base_opts(&o, NULL);
    o.init_latent = cases; // tensor "init_latent"
    vd_gen_plan plan;
    if (run_frames(&o, "parity", got, &plan)) {
        VT_EXPECT(plan.s.shift == 5.0);   // the fixture's scheduler flow_shift, not Wan's 3.0
        VT_EXPECT(plan.cfg);
        double p = pt_psnr_u8(got, ref, n);
        int maxd = 0;
        for (size_t i = 0; i < n; i++) maxd = abs((int)got[i] - ref[i]) > maxd ? abs((int)got[i] - ref[i]) : maxd;
        fprintf(stderr, "parity vs diffusers WanPipeline: PSNR %.2f dB, max |diff| %d\n", p, maxd);
        VT_EXPECT(p >= 40.0);
        // Sidecar: the settings that reproduce the run.
        cJSON *j = NULL;
        FILE *sf = fopen(plan.sidecar_path, "rb");
        VT_EXPECT(sf != NULL);
        if (sf) {
            char buf[8192];
            size_t len = fread(buf, 1, sizeof buf - 1, sf);
            buf[len] = 0;
            fclose(sf);
            j = cJSON_Parse(buf);
        }
        VT_EXPECT(j != NULL);
        if (j) {
            const cJSON *pr = cJSON_GetObjectItem(j, "prompt"), *sh = cJSON_GetObjectItem(j, "shift"),
                        *st = cJSON_GetObjectItem(j, "steps"), *il = cJSON_GetObjectItem(j, "init_latent"),
                        *np = cJSON_GetObjectItem(j, "negative_prompt"), *sm = cJSON_GetObjectItem(j, "sampler");
            VT_EXPECT(cJSON_IsString(pr) && !strcmp(pr->valuestring, PROMPT));
            VT_EXPECT(cJSON_IsString(np) && !strcmp(np->valuestring, NEG));
            VT_EXPECT(cJSON_IsNumber(sh) && sh->valuedouble == 5.0);
            VT_EXPECT(cJSON_IsNumber(st) && st->valueint == 4);
            VT_EXPECT(cJSON_IsString(il) && !strcmp(il->valuestring, cases));
            VT_EXPECT(cJSON_IsString(sm) && !strcmp(sm->valuestring, "unipc"));
            cJSON_Delete(j);
        }
        vd_gen_plan_free(&plan);
    }
    // Flow-matching Euler vs diffusers' FlowMatchEulerDiscreteScheduler(shift 5) on the same latent.
    const vd_st_tensor *te = f ? vd_st_find(f, "expected_frames_euler") : NULL;
    VT_EXPECT(te && te->dtype == VD_U8 && (size_t)(te->end - te->begin) == n);
    o.sampler = VD_SAMPLER_EULER;
    if (te && run_frames(&o, "euler", got, NULL)) {
        double p = pt_psnr_u8(got, te->data, n);
        fprintf(stderr, "euler parity vs diffusers: PSNR %.2f dB (vs the UniPC reference %.2f dB)\n", p, pt_psnr_u8(got, ref, n));
        VT_EXPECT(p >= 40.0);
        VT_EXPECT(pt_psnr_u8(got, ref, n) < 40.0); // the two samplers must give different frames
    }
    o.sampler = VD_SAMPLER_UNIPC;
    // Guidance 5 must matter: the same run without CFG gives other frames.
    o.guidance = 1.0;
    if (run_frames(&o, "nocfg", got, NULL)) {
        double p = pt_psnr_u8(got, ref, n);
        fprintf(stderr, "guidance 1 (no CFG) vs the guidance-5 reference: PSNR %.2f dB\n", p);
        VT_EXPECT(p < 40.0);
    }
    if (f) vd_st_close(f);
    free(got);
    free(ref);
}

static void test_seed(void) {
    const size_t n = (size_t)NF * FH * FW * 3;
    uint8_t *a = malloc(n), *b = malloc(n), *c = malloc(n);
    vd_gen_opts o;
    base_opts(&o, NULL);
    o.seed = 7;
    char lat[512];
    snprintf(lat, sizeof lat, "%s/seed7.safetensors", g_tmp);
    o.save_latent = lat;
    bool ok = run_frames(&o, "seed7a", a, NULL);
    o.save_latent = NULL;
    ok = run_frames(&o, "seed7b", b, NULL) && ok;
    o.seed = 8;
    ok = run_frames(&o, "seed8", c, NULL) && ok;
    if (ok) {
        VT_EXPECT(memcmp(a, b, n) == 0);
        VT_EXPECT(memcmp(a, c, n) != 0);
        fprintf(stderr, "seed: 7 vs 7 bit-equal %s; 7 vs 8 PSNR %.1f dB\n", memcmp(a, b, n) ? "no" : "yes", pt_psnr_u8(a, c, n));
    }
    // The saved initial latent is the seed's Philox noise; the final latent is finite.
    vd_error err = {0};
    vd_st_file *f = NULL;
    VT_EXPECT(vd_st_open(&f, lat, &err) == VD_OK);
    if (f) {
        const vd_st_tensor *i0 = vd_st_find(f, "init_latent"), *x = vd_st_find(f, "latent");
        const int64_t numel = 16 * ((NF - 1) / 4 + 1) * (FH / 8) * (FW / 8);
        VT_EXPECT(i0 && x && i0->ndim == 4 && i0->shape[0] == 16 && i0->shape[1] == 3 && i0->shape[2] == 4 && i0->shape[3] == 6);
        if (i0 && x) {
            float *want = malloc((size_t)numel * 4);
            vd_rng_normal_cpu(want, numel, 7, 0);
            VT_EXPECT(memcmp(want, i0->data, (size_t)numel * 4) == 0);
            const float *xf = x->data;
            bool fin = true;
            for (int64_t k = 0; k < numel; k++) fin = fin && isfinite(xf[k]);
            VT_EXPECT(fin);
            free(want);
        }
        vd_st_close(f);
    }
    free(a);
    free(b);
    free(c);
}

// A model folder made of links to the fixture's parts plus a vdit.json.
static void test_defaults(void) {
    char dir[512], p[700];
    snprintf(dir, sizeof dir, "%s/model_vj", g_tmp);
    mkdir(dir, 0755);
    const char *parts[] = {"model_index.json", "transformer", "text_encoder", "tokenizer", "vae", "scheduler"};
    for (int i = 0; i < 6; i++) {
        char src[600];
        snprintf(src, sizeof src, "%s/%s", vt_src_path("tests/data/pipeline/model"), parts[i]);
        snprintf(p, sizeof p, "%s/%s", dir, parts[i]);
        VT_EXPECT(symlink(src, p) == 0);
    }
    snprintf(p, sizeof p, "%s/vdit.json", dir);
    FILE *f = fopen(p, "w");
    fprintf(f, "{\"width\": 32, \"height\": 16, \"frames\": 5, \"steps\": 3, \"guidance\": 1.0, \"shift\": 2.5, \"fps\": 8, "
               "\"negative_prompt\": \"ugly\"}\n");
    fclose(f);
    vd_gen_opts o;
    vd_gen_opts_init(&o);
    o.model = dir;
    o.prompt = "x";
    o.sink = &g_sink;
    snprintf(p, sizeof p, "%s/d.y4m", g_tmp);
    o.output = p;
    vd_gen_plan plan;
    vd_error err = {0};
    VT_EXPECT(vd_gen_prepare(&plan, &o, &err) == VD_OK);
    if (!err.code) {
        VT_EXPECT(plan.s.width == 32 && plan.s.height == 16 && plan.s.frames == 5 && plan.s.steps == 3 && plan.s.fps == 8);
        VT_EXPECT(plan.s.guidance == 1.0 && !plan.cfg && plan.s.shift == 2.5 && !strcmp(plan.s.negative_prompt, "ugly"));
        VT_EXPECT(plan.lat[0] == 16 && plan.lat[1] == 2 && plan.lat[2] == 2 && plan.lat[3] == 4);
        vd_gen_plan_free(&plan);
    }
    o.width = 64;
    o.shift = 7.0;
    o.negative_prompt = "";
    VT_EXPECT(vd_gen_prepare(&plan, &o, &err) == VD_OK);
    if (!err.code) {
        VT_EXPECT(plan.s.width == 64 && plan.s.height == 16 && plan.s.shift == 7.0 && !strcmp(plan.s.negative_prompt, ""));
        vd_gen_plan_free(&plan);
    }
    // Without vdit.json: Wan's built-ins, the scheduler's shift, Wan's (non-empty) negative prompt.
    o = (vd_gen_opts){0};
    vd_gen_opts_init(&o);
    o.model = vt_src_path("tests/data/pipeline/model");
    o.prompt = "x";
    o.output = p;
    o.sink = &g_sink;
    VT_EXPECT(vd_gen_prepare(&plan, &o, &err) == VD_OK);
    if (!err.code) {
        VT_EXPECT(plan.s.width == 832 && plan.s.height == 480 && plan.s.frames == 81 && plan.s.steps == 50 && plan.s.fps == 16);
        VT_EXPECT(plan.s.guidance == 5.0 && plan.s.shift == 5.0 && strlen(plan.s.negative_prompt) > 100);
        vd_gen_plan_free(&plan);
    }
    VT_EXPECT(access(p, F_OK) != 0); // prepare writes nothing
}

// One bad setting: prepare fails with `code` and a message containing `want`; no file appears.
static void expect_bad(const char *name, vd_gen_opts *o, vd_status code, const char *want) {
    vd_gen_plan plan;
    vd_error err = {0};
    vd_status s = vd_gen_prepare(&plan, o, &err);
    bool ok = s == code && strstr(err.msg, want) != NULL;
    fprintf(stderr, "%s %s: [%s] %s\n", ok ? "ok  " : "FAIL", name, vd_status_str(s), err.msg);
    if (!ok) vt_failures++;
    if (!s) vd_gen_plan_free(&plan);
    if (o->output && !strchr(o->output, '%')) VT_EXPECT(access(o->output, F_OK) != 0);
}

static void test_validation(void) {
    char out[512], bad_lat[512];
    snprintf(out, sizeof out, "%s/v.y4m", g_tmp);
    vd_gen_opts o;
    base_opts(&o, out);
    o.frames = 10;
    expect_bad("frames 10", &o, VD_ERR_INVALID_ARG, "4k+1");
    base_opts(&o, out);
    o.width = 40;
    expect_bad("width 40", &o, VD_ERR_INVALID_ARG, "multiple of 16");
    base_opts(&o, out);
    o.height = 24;
    expect_bad("height 24", &o, VD_ERR_INVALID_ARG, "multiple of 16");
    base_opts(&o, out);
    o.attention = "no_such_method";
    expect_bad("unknown method", &o, VD_ERR_INVALID_ARG, "not a known method");
    base_opts(&o, out);
    o.attn_opts[o.n_attn_opts++] = "no_such_key=1";
    expect_bad("unknown option", &o, VD_ERR_INVALID_ARG, "no_such_key");
    base_opts(&o, out);
    o.model = "/nonexistent/model";
    expect_bad("missing model", &o, VD_ERR_IO, "does not exist");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/partial_model", g_tmp);
    mkdir(dir, 0755);
    base_opts(&o, out);
    o.model = dir;
    expect_bad("model without files", &o, VD_ERR_IO, "model_index.json");
    base_opts(&o, "/nonexistent_dir/out.mp4");
    expect_bad("output dir missing", &o, VD_ERR_IO, "does not exist");
    char dmp4[600];
    snprintf(dmp4, sizeof dmp4, "%s/dir.mp4", g_tmp);
    mkdir(dmp4, 0755);
    base_opts(&o, dmp4);
    o.output = NULL;    // checked by hand: the directory itself exists
    expect_bad("no output", &o, VD_ERR_INVALID_ARG, "-o");
    o.output = dmp4;
    vd_gen_plan plan;
    vd_error err = {0};
    VT_EXPECT(vd_gen_prepare(&plan, &o, &err) == VD_ERR_IO && strstr(err.msg, "is a directory"));
    fprintf(stderr, "output is a dir: %s\n", err.msg);
    base_opts(&o, dmp4);
    char avi[600];
    snprintf(avi, sizeof avi, "%s/v.avi", g_tmp);
    o.output = avi;     // the video sink's check: an extension no writer has
    expect_bad("unknown extension", &o, VD_ERR_UNSUPPORTED, "'.avi'");
    base_opts(&o, "/proc/out.y4m");
    expect_bad("output not writable", &o, VD_ERR_IO, "cannot create files");
    base_opts(&o, out);
    o.save_latent = "/nonexistent_dir/l.safetensors";
    expect_bad("save-latent dir missing", &o, VD_ERR_IO, "--save-latent");
    // An init latent of the wrong shape (the fixture's latent for 9 frames, asked for 13).
    base_opts(&o, out);
    snprintf(bad_lat, sizeof bad_lat, "%s", vt_src_path("tests/data/pipeline/cases.safetensors"));
    o.init_latent = bad_lat;
    o.frames = 13;
    expect_bad("init latent shape", &o, VD_ERR_INVALID_ARG, "[16, 4, 4, 6]");
    // A 5-D [1, C, F', H', W'] latent (diffusers' layout) is accepted.
    char lat5[600];
    snprintf(lat5, sizeof lat5, "%s/lat5.safetensors", g_tmp);
    {
        static float z[16 * 3 * 4 * 6];
        const int64_t shape[5] = {1, 16, 3, 4, 6};
        vd_st_write_entry e = {"latents", VD_F32, 5, shape, z};
        vd_error err5 = {0};
        VT_EXPECT(vd_st_write(lat5, &e, 1, NULL, &err5) == VD_OK);
        base_opts(&o, out);
        o.init_latent = lat5;
        vd_gen_plan plan5;
        VT_EXPECT(vd_gen_prepare(&plan5, &o, &err5) == VD_OK);
        if (!err5.code) {
            VT_EXPECT(!strcmp(plan5.init_tensor, "latents"));
            vd_gen_plan_free(&plan5);
        }
    }
    base_opts(&o, out);
    o.prompt = NULL;
    expect_bad("no prompt", &o, VD_ERR_INVALID_ARG, "--prompt");
}

// An in-memory frame sink that records its calls; fail_at >= 0 makes that write fail.
typedef struct {
    int n_check, n_open, n_write, n_close, n_abort, n_remove;
    int w, h, fps;
    int fail_at;
    bool frame_files;
    uint8_t *frames; // [NF, FH, FW, 3]
} mem_sink;

static vd_status mem_check(void *ctx, const char *path, vd_frame_sink_info *info, vd_error *err) {
    mem_sink *m = ctx;
    m->n_check++;
    snprintf(info->format, sizeof info->format, "memory");
    info->frame_files = m->frame_files;
    return VD_OK;
}
static vd_status mem_open(void *ctx, const char *path, int w, int h, int fps, vd_error *err) {
    mem_sink *m = ctx;
    m->n_open++;
    m->w = w;
    m->h = h;
    m->fps = fps;
    return VD_OK;
}
static vd_status mem_write(void *ctx, const uint8_t *rgb, vd_error *err) {
    mem_sink *m = ctx;
    if (m->n_write == m->fail_at) return vd_error_set(err, VD_ERR_IO, "mem_sink: disk full at frame %d", m->n_write);
    if (m->n_write >= NF || m->w != FW || m->h != FH)
        return vd_error_set(err, VD_ERR_INTERNAL, "mem_sink: frame %d of %dx%d unexpected", m->n_write, m->w, m->h);
    memcpy(m->frames + (size_t)m->n_write * FH * FW * 3, rgb, (size_t)FH * FW * 3);
    m->n_write++;
    return VD_OK;
}
static vd_status mem_close(void *ctx, vd_error *err) { ((mem_sink *)ctx)->n_close++; return VD_OK; }
static void mem_abort(void *ctx) { ((mem_sink *)ctx)->n_abort++; }
static void mem_remove(void *ctx) { ((mem_sink *)ctx)->n_remove++; }

static vd_frame_sink mem_sink_make(mem_sink *m) {
    vd_frame_sink k = {m, NULL, mem_open, mem_write, mem_close, mem_abort, mem_remove};
    return k;
}

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *b = calloc(1, 16384);
    if (b && fread(b, 1, 16383, f) == 0) b[0] = 0;
    fclose(f);
    return b;
}

static void test_sink(void) {
    const size_t n = (size_t)NF * FH * FW * 3;
    uint8_t *png = malloc(n);
    mem_sink m = {0};
    m.fail_at = -1;
    m.frames = calloc(1, n);
    vd_frame_sink k = mem_sink_make(&m);
    vd_gen_opts o;
    base_opts(&o, NULL);
    o.seed = 7;
    bool have_png = run_frames(&o, "sink_png", png, NULL);
    // 1. Memory sink without check: same frames as the PNG files, calls in order, sidecar says "unspecified".
    char out[600];
    snprintf(out, sizeof out, "%s/mem.raw", g_tmp);
    base_opts(&o, out);
    o.seed = 7;
    o.sink = &k;
    vd_gen_plan plan;
    vd_gen_result res;
    vd_error err = {0};
    vd_status s = vd_gen_prepare(&plan, &o, &err);
    VT_EXPECT(s == VD_OK);
    if (!s) {
        VT_EXPECT(!strcmp(plan.out_info.format, "unspecified"));
        s = vd_gen_run(&plan, &res, &err);
        if (s) fprintf(stderr, "FAIL memory sink run: %s\n", err.msg);
        VT_EXPECT(s == VD_OK);
        VT_EXPECT(m.n_open == 1 && m.n_write == NF && m.n_close == 1 && m.n_abort == 0 && m.n_remove == 0);
        VT_EXPECT(m.w == FW && m.h == FH && m.fps == plan.s.fps && plan.s.fps == 16);
        VT_EXPECT(res.frames_written == NF);
        if (have_png) VT_EXPECT(memcmp(m.frames, png, n) == 0);
        fprintf(stderr, "memory sink: %d frames, bit-equal to the PNG files: %s\n", m.n_write,
                have_png && !memcmp(m.frames, png, n) ? "yes" : "no");
        char *j = read_text(plan.sidecar_path);
        VT_EXPECT(j && strstr(j, "\"format\":\t\"unspecified\"") && strstr(j, "\"frames_written\":\t9"));
        free(j);
        VT_EXPECT(access(out, F_OK) != 0); // the memory sink made no file; dit makes none either
        vd_gen_plan_free(&plan);
    }
    // 2. A write that fails: the error passes through, abort (not close) is called, no sidecar.
    memset(&m, 0, sizeof m);
    m.fail_at = 3;
    m.frames = calloc(1, n);
    snprintf(out, sizeof out, "%s/memfail.raw", g_tmp);
    base_opts(&o, out);
    o.sink = &k;
    s = vd_gen_prepare(&plan, &o, &err);
    VT_EXPECT(s == VD_OK);
    if (!s) {
        s = vd_gen_run(&plan, &res, &err);
        VT_EXPECT(s == VD_ERR_IO && strstr(err.msg, "disk full at frame 3"));
        fprintf(stderr, "failing sink: [%s] %s\n", vd_status_str(s), err.msg);
        VT_EXPECT(m.n_open == 1 && m.n_write == 3 && m.n_close == 0 && m.n_abort == 1 && m.n_remove == 0);
        VT_EXPECT(access(plan.sidecar_path, F_OK) != 0);
        vd_gen_plan_free(&plan);
    }
    free(m.frames);
    // 3. The sink's check names the format and the sidecar place; a sink without a callback, or none, is refused.
    k.check = mem_check;
    m.frame_files = true;
    snprintf(out, sizeof out, "%s/mem_%%04d.raw", g_tmp);
    base_opts(&o, out);
    o.sink = &k;
    s = vd_gen_prepare(&plan, &o, &err);
    VT_EXPECT(s == VD_OK && m.n_check == 1);
    if (!s) {
        char want[600];
        snprintf(want, sizeof want, "%s/generate.json", g_tmp);
        VT_EXPECT(!strcmp(plan.out_info.format, "memory") && !strcmp(plan.sidecar_path, want));
        vd_gen_plan_free(&plan);
    }
    k.write = NULL;
    expect_bad("sink without write", &o, VD_ERR_INVALID_ARG, "frame sink lacks a callback");
    o.sink = NULL;
    expect_bad("no sink", &o, VD_ERR_INVALID_ARG, "no frame sink");
    // 4. The sidecar cannot be written (a directory has its name): the video sink removes its output,
    //    a single file and a PNG sequence alike.
    snprintf(out, sizeof out, "%s/nosc.y4m", g_tmp);
    char sc[700];
    snprintf(sc, sizeof sc, "%s.json", out);
    mkdir(sc, 0755);
    base_opts(&o, out);
    s = vd_gen_prepare(&plan, &o, &err);
    VT_EXPECT(s == VD_OK);
    if (!s) {
        s = vd_gen_run(&plan, &res, &err);
        VT_EXPECT(s == VD_ERR_IO && strstr(err.msg, "sidecar"));
        fprintf(stderr, "sidecar fails (y4m): [%s] %s\n", vd_status_str(s), err.msg);
        VT_EXPECT(access(out, F_OK) != 0);
        vd_gen_plan_free(&plan);
    }
    char dir[600];
    snprintf(dir, sizeof dir, "%s/nosc_png", g_tmp);
    mkdir(dir, 0755);
    snprintf(sc, sizeof sc, "%s/generate.json", dir);
    mkdir(sc, 0755);
    snprintf(out, sizeof out, "%s/%%04d.png", dir);
    base_opts(&o, out);
    s = vd_gen_prepare(&plan, &o, &err);
    VT_EXPECT(s == VD_OK);
    if (!s) {
        s = vd_gen_run(&plan, &res, &err);
        VT_EXPECT(s == VD_ERR_IO && strstr(err.msg, "sidecar"));
        fprintf(stderr, "sidecar fails (png): [%s] %s\n", vd_status_str(s), err.msg);
        for (int f = 1; f <= NF; f++) {
            char pf[700];
            snprintf(pf, sizeof pf, "%s/%04d.png", dir, f);
            VT_EXPECT(access(pf, F_OK) != 0);
        }
        vd_gen_plan_free(&plan);
    }
    free(png);
}

int main(void) {
    snprintf(g_tmp, sizeof g_tmp, "/tmp/vdit_test_pipeline_XXXXXX");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    vd_frame_sink_video_init(&g_sink, &g_sink_state);
    test_validation();
    test_defaults();
    test_parity();
    test_seed();
    test_sink();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (vt_failures == 0 && system(cmd) != 0) fprintf(stderr, "note: could not remove %s\n", g_tmp);
    return vt_finish("test_pipeline");
}
