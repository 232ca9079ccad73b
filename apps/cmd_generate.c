// vdit generate: text-to-video with a Wan2.1 model folder (dit/pipeline.h).
//   vdit generate --prompt "..." [-o out.mp4] [--model DIR] [--width W --height H --frames N --steps S
//                 --guidance G --shift S --seed N --fps F --sampler unipc|euler --attention NAME
//                 --attn-opt key=value ... --device cpu|cuda --save-latent F --init-latent F --threads N]
// Exit codes: 0 ok, 2 usage (bad flag or value, caught before any weight is read), 1 runtime.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/commands.h"
#include "apps/frame_sink_video.h"
#include "dit/pipeline.h"

#define DEFAULT_OUTPUT "vdit_out.mp4"

static void gen_usage(FILE *f) {
    fprintf(f,
            "usage: vdit generate --prompt TEXT [-o OUT.mp4] [options]\n"
            "  -p, --prompt TEXT           what the video shows (required)\n"
            "  -n, --negative-prompt TEXT  what to steer away from (default: the model's vdit.json, else Wan's)\n"
            "  -o, --output FILE           .mp4 (H.264) | .webm | .mkv | .y4m | DIR/%%04d.png (default " DEFAULT_OUTPUT ");\n"
            "                              settings go to FILE.json next to it\n"
            "  --model DIR                 Wan2.1 diffusers folder (default: $VDIT_MODEL_DIR, else the bundled vdit-tiny)\n"
            "  -W, --width N / -H, --height N   multiples of 16 (Wan: 832 x 480)\n"
            "  --frames N                  4k+1 (Wan: 81)\n"
            "  --steps N                   denoising steps (Wan: 50)\n"
            "  --guidance G                classifier-free guidance scale; <= 1 turns CFG off (Wan: 5)\n"
            "  --shift S                   flow shift (default: scheduler/scheduler_config.json flow_shift)\n"
            "  -s, --seed N                Philox noise seed (default 42; -1 = random, printed)\n"
            "  --fps N                     frame rate of the video (Wan: 16)\n"
            "  --sampler unipc|euler       UniPC bh2 order 2 (diffusers' Wan scheduler, default) or flow Euler\n"
            "  --attention NAME            self-attention method (default dense; `vdit attention list`)\n"
            "  --attn-opt KEY=VALUE        method option (repeatable)\n"
            "  --device cpu|cuda           where the models run (default cpu)\n"
            "  --save-latent FILE          write the final and the initial latent (safetensors)\n"
            "  --init-latent FILE          start from this latent [C, F', H/8, W/8] instead of the seed's noise\n"
            "                              (tensor 'init_latent', 'latent' or the only one)\n"
            "  -t, --threads N             CPU threads (default: all)\n"
            "  --no-sidecar                do not write FILE.json\n"
            "Defaults: built-in Wan values < the model's vdit.json < these flags.\n");
}

static int parse_int(const char *flag, const char *v, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "vdit generate: %s '%s' must be an integer in [%ld, %ld]\n", flag, v, lo, hi);
        return 2;
    }
    *out = x;
    return 0;
}

static int parse_num(const char *flag, const char *v, double *out) {
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(x)) {
        fprintf(stderr, "vdit generate: %s '%s' is not a number\n", flag, v);
        return 2;
    }
    *out = x;
    return 0;
}

int cmd_generate(int argc, char **argv) {
    vd_gen_opts o;
    vd_gen_opts_init(&o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            gen_usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--no-sidecar")) {
            o.sidecar = false;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "vdit generate: option '%s' needs a value (or is unknown)\n\n", a);
            gen_usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        long x;
        int rc = 0;
        if (!strcmp(a, "--prompt") || !strcmp(a, "-p")) o.prompt = v;
        else if (!strcmp(a, "--negative-prompt") || !strcmp(a, "-n")) o.negative_prompt = v;
        else if (!strcmp(a, "--output") || !strcmp(a, "-o")) o.output = v;
        else if (!strcmp(a, "--model")) o.model = v;
        else if (!strcmp(a, "--width") || !strcmp(a, "-W")) { rc = parse_int(a, v, 16, 16384, &x); o.width = (int)x; }
        else if (!strcmp(a, "--height") || !strcmp(a, "-H")) { rc = parse_int(a, v, 16, 16384, &x); o.height = (int)x; }
        else if (!strcmp(a, "--frames")) { rc = parse_int(a, v, 1, 100001, &x); o.frames = (int)x; }
        else if (!strcmp(a, "--steps")) { rc = parse_int(a, v, 1, 1000, &x); o.steps = (int)x; }
        else if (!strcmp(a, "--fps")) { rc = parse_int(a, v, 1, 1000, &x); o.fps = (int)x; }
        else if (!strcmp(a, "--threads") || !strcmp(a, "-t")) { rc = parse_int(a, v, 1, 4096, &x); o.threads = (int)x; }
        else if (!strcmp(a, "--seed") || !strcmp(a, "-s")) {
            char *end;
            errno = 0;
            long long sd = strtoll(v, &end, 10);
            if (errno || end == v || *end || sd < -1) {
                fprintf(stderr, "vdit generate: --seed '%s' must be an integer >= 0 (or -1 for a random seed)\n", v);
                return 2;
            }
            o.seed = sd;
        }
        else if (!strcmp(a, "--guidance") || !strcmp(a, "--cfg-scale")) rc = parse_num(a, v, &o.guidance);
        else if (!strcmp(a, "--shift") || !strcmp(a, "--flow-shift")) rc = parse_num(a, v, &o.shift);
        else if (!strcmp(a, "--sampler")) {
            if (vd_sampler_from_name(v, &o.sampler)) {
                fprintf(stderr, "vdit generate: --sampler '%s' is not one of: unipc, euler\n", v);
                return 2;
            }
        }
        else if (!strcmp(a, "--attention")) o.attention = v;
        else if (!strcmp(a, "--attn-opt")) {
            if (o.n_attn_opts == VD_GEN_MAX_ATTN_OPTS) {
                fprintf(stderr, "vdit generate: at most %d --attn-opt options\n", VD_GEN_MAX_ATTN_OPTS);
                return 2;
            }
            o.attn_opts[o.n_attn_opts++] = v;
        }
        else if (!strcmp(a, "--device")) {
            if (vd_device_from_name(v, &o.device)) {
                fprintf(stderr, "vdit generate: --device '%s' is not one of: cpu, cuda\n", v);
                return 2;
            }
        }
        else if (!strcmp(a, "--save-latent")) o.save_latent = v;
        else if (!strcmp(a, "--init-latent")) o.init_latent = v;
        else {
            fprintf(stderr, "vdit generate: unknown option '%s'\n\n", a);
            gen_usage(stderr);
            return 2;
        }
        if (rc) return rc;
    }
    if (!o.prompt) {
        fprintf(stderr, "vdit generate: --prompt is required\n\n");
        gen_usage(stderr);
        return 2;
    }
    if (!o.output) {
        o.output = DEFAULT_OUTPUT;
        fprintf(stderr, "generate: no -o given; writing %s\n", o.output);
    }
    // Frames go to the codecs video writer; its check (format known and built) runs in prepare.
    vd_frame_sink sink;
    vd_frame_sink_video sink_state;
    vd_frame_sink_video_init(&sink, &sink_state);
    o.sink = &sink;
    vd_error err = {0};
    vd_gen_plan plan;
    vd_status s = vd_gen_prepare(&plan, &o, &err);
    if (s) {
        fprintf(stderr, "vdit generate: error: %s\n", err.msg);
        return (s == VD_ERR_INVALID_ARG || s == VD_ERR_UNSUPPORTED) ? 2 : 1;
    }
    fprintf(stderr, "generate: model %s; %dx%d, %d frames, %d steps %s, guidance %g%s, shift %g, seed %llu, %s, attention %s\n",
            plan.dir.root, plan.s.width, plan.s.height, plan.s.frames, plan.s.steps, vd_sampler_name(plan.o.sampler),
            plan.s.guidance, plan.cfg ? "" : " (CFG off)", plan.s.shift, (unsigned long long)plan.seed,
            vd_device_name(plan.o.device), plan.attn ? vd_attn_get_method(plan.attn)->name : "dense");
    vd_gen_result res;
    s = vd_gen_run(&plan, &res, &err);
    if (s) {
        fprintf(stderr, "vdit generate: error: %s\n", err.msg);
        vd_gen_plan_free(&plan);
        return 1;
    }
    fprintf(stderr, "generate: wrote %s (%lld frames %dx%d, %d fps)%s%s in %.1f s\n", plan.o.output, (long long)res.frames_written,
            plan.s.width, plan.s.height, plan.s.fps, plan.o.sidecar ? " and " : "", plan.o.sidecar ? plan.sidecar_path : "",
            res.total_s);
    vd_gen_plan_free(&plan);
    return 0;
}
