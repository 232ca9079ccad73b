// vdit vae-decode: Wan VAE decode of a latent safetensors file into a video (-o, any format the
// codecs' writer takes: .mp4 .webm .mkv .y4m or a %d.png pattern) and/or a frames safetensors
// (--out: "frames" u8 [F, H, W, 3] and "video" f32 [1, 3, F, H, W] in [-1, 1]). Frames stream
// to the video writer as each time chunk finishes.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/commands.h"
#include "codecs/video_writer.h"
#include "dit/vae.h"
#include "lib/safetensors.h"
#include "lib/tensor.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: vdit vae-decode --vae DIR --input latent.safetensors (-o out.mp4 | --out frames.safetensors)\n"
            "  --vae DIR|FILE     diffusers AutoencoderKLWan folder (config.json + diffusion_pytorch_model.safetensors),\n"
            "                     or one .safetensors file (original Wan2.1 VAE names or diffusers names; Wan2.1 config)\n"
            "  --input FILE       latent [16, F, H, W] or [1, 16, F, H, W] (f32/bf16/f16)\n"
            "  --tensor NAME      tensor to decode (default: 'latents', 'latent', or the file's only tensor)\n"
            "  -o FILE            video output (.mp4 .webm .mkv .y4m, or frames/%%04d.png)\n"
            "  --out FILE         frames safetensors: frames u8 [F,H,W,3], video f32 [1,3,F,H,W]\n"
            "  --no-denorm        the latent is already de-normalized (skip z * std + mean)\n"
            "  --chunk N          latent frames per decoder call (default 1)\n"
            "  --tile             spatial tiling (latent tiles 32x32, stride 24; set with --tile-size/--tile-stride)\n"
            "  --tile-size N      tile size in latent pixels (default 32)\n"
            "  --tile-stride N    tile stride in latent pixels (default 24)\n"
            "  --device cpu|cuda  (default cpu)\n"
            "  --fp32             CUDA GEMMs in full fp32 (default TF32 inputs, fp32 accumulate)\n"
            "  --conv auto|gemm|cudnn  CUDA convolutions: cuDNN (channels-last runner) or cuBLAS GEMMs\n"
            "                     (default auto: cudnn when this build has cuDNN, else gemm)\n"
            "  --fps N            video frame rate (default 16)\n"
            "  --crf N            video quality (codec default when omitted)\n");
}

typedef struct {
    vd_video_writer *vw;
    const char *video_path;
    uint8_t *frames;     // --out: all frames u8
    float *video;        // --out: [3, F, H, W]
    int64_t n_frames, h, w;
    int fps, crf;
} sink;

static vd_status on_frame(void *user, const vd_vae_frame *fr, vd_error *err) {
    sink *s = user;
    if (s->video_path && !s->vw) {
        vd_video_writer_options o;
        vd_video_writer_options_init(&o);
        o.fps_num = s->fps;
        o.fps_den = 1;
        if (s->crf >= 0) o.crf = s->crf;
        VD_TRY(vd_video_writer_open(&s->vw, s->video_path, (int)fr->w, (int)fr->h, &o, err));
    }
    if (s->vw) VD_TRY(vd_video_writer_write(s->vw, fr->rgb, 0, err));
    if (s->frames) {
        const int64_t n = fr->h * fr->w * fr->c;
        memcpy(s->frames + fr->index * n, fr->rgb, (size_t)n);
        for (int64_t c = 0; c < fr->c; c++)
            memcpy(s->video + (c * s->n_frames + fr->index) * fr->h * fr->w, fr->chw + c * fr->h * fr->w,
                   (size_t)(fr->h * fr->w) * sizeof(float));
    }
    return VD_OK;
}

static int parse_int(const char *opt, const char *v, int lo, int hi, int *out) {
    char *end;
    long x = strtol(v, &end, 10);
    if (*v == 0 || *end != 0 || x < lo || x > hi) {
        fprintf(stderr, "vdit vae-decode: %s '%s' must be an integer in [%d, %d]\n", opt, v, lo, hi);
        return -1;
    }
    *out = (int)x;
    return 0;
}

int cmd_vae_decode(int argc, char **argv) {
    const char *vae_dir = NULL, *input = NULL, *tensor = NULL, *video_path = NULL, *out_path = NULL, *dev = "cpu";
    vd_vae_decode_opts o;
    vd_vae_decode_opts_default(&o);
    int fps = 16, crf = -1, tile_size = 32, tile_stride = 24;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE                                                                          \
    if (!v) {                                                                               \
        fprintf(stderr, "vdit vae-decode: %s needs a value\n", a);                          \
        return 2;                                                                           \
    }                                                                                       \
    i++;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--vae")) { NEED_VALUE vae_dir = v;
        } else if (!strcmp(a, "--input")) { NEED_VALUE input = v;
        } else if (!strcmp(a, "--tensor")) { NEED_VALUE tensor = v;
        } else if (!strcmp(a, "-o")) { NEED_VALUE video_path = v;
        } else if (!strcmp(a, "--out")) { NEED_VALUE out_path = v;
        } else if (!strcmp(a, "--device")) { NEED_VALUE dev = v;
        } else if (!strcmp(a, "--no-denorm")) { o.denormalize = false;
        } else if (!strcmp(a, "--tile")) { o.tiling = true;
        } else if (!strcmp(a, "--fp32")) { o.cuda_fp32 = true;
        } else if (!strcmp(a, "--conv")) { NEED_VALUE
            if (vd_vae_conv_impl_parse(v, &o.cuda_conv) != 0) {
                fprintf(stderr, "vdit vae-decode: --conv '%s' must be auto, gemm or cudnn\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--chunk")) { NEED_VALUE if (parse_int(a, v, 1, 100000, &o.chunk_frames)) return 2;
        } else if (!strcmp(a, "--tile-size")) { NEED_VALUE if (parse_int(a, v, 1, 100000, &tile_size)) return 2; o.tiling = true;
        } else if (!strcmp(a, "--tile-stride")) { NEED_VALUE if (parse_int(a, v, 1, 100000, &tile_stride)) return 2; o.tiling = true;
        } else if (!strcmp(a, "--fps")) { NEED_VALUE if (parse_int(a, v, 1, 1000, &fps)) return 2;
        } else if (!strcmp(a, "--crf")) { NEED_VALUE if (parse_int(a, v, 0, 63, &crf)) return 2;
        } else {
            fprintf(stderr, "vdit vae-decode: unknown option '%s'\n\n", a);
            usage(stderr);
            return 2;
        }
#undef NEED_VALUE
    }
    if (!vae_dir || !input || (!video_path && !out_path)) {
        fprintf(stderr, "vdit vae-decode: --vae, --input and one of -o / --out are required\n\n");
        usage(stderr);
        return 2;
    }
    if (tile_stride > tile_size) {
        fprintf(stderr, "vdit vae-decode: --tile-stride %d must be <= --tile-size %d\n", tile_stride, tile_size);
        return 2;
    }
    o.tile_h = o.tile_w = tile_size;
    o.stride_h = o.stride_w = tile_stride;
    if (vd_device_from_name(dev, &o.device) != 0) {
        fprintf(stderr, "vdit vae-decode: --device '%s' must be cpu or cuda\n", dev);
        return 2;
    }
    if (video_path) {
        vd_video_format fmt;
        vd_error ferr = {0};
        if (vd_video_format_from_path(video_path, &fmt, &ferr) != VD_OK || !vd_video_format_available(fmt)) {
            fprintf(stderr, "vdit vae-decode: -o %s: %s\n", video_path,
                    ferr.msg[0] ? ferr.msg : "this build cannot write that format");
            return 2;
        }
    }

    vd_error err = {0};
    vd_vae *vae = NULL;
    vd_st_file *in = NULL;
    sink s = {0};
    s.video_path = video_path;
    s.fps = fps;
    s.crf = crf;
    int rc = 1;
    vd_tensor z = {0};
    if (vd_vae_load(&vae, vae_dir, &err) != VD_OK) goto fail;
    if (vd_st_open(&in, input, &err) != VD_OK) goto fail;
    const vd_st_tensor *t = NULL;
    if (tensor) {
        t = vd_st_find(in, tensor);
        if (!t) {
            vd_error_set(&err, VD_ERR_INVALID_ARG, "tensor '%s' is not in %s", tensor, input);
            goto fail;
        }
    } else {
        t = vd_st_find(in, "latents");
        if (!t) t = vd_st_find(in, "latent");
        if (!t && vd_st_count(in) == 1) t = vd_st_at(in, 0);
        if (!t) {
            vd_error_set(&err, VD_ERR_INVALID_ARG,
                         "%s holds %zu tensors and none is named 'latents' or 'latent'; pick one with --tensor", input,
                         vd_st_count(in));
            goto fail;
        }
    }
    if (vd_st_load_f32(t, &z, &err) != VD_OK) goto fail;
    const vd_vae_config *cfg = vd_vae_get_config(vae);
    if (z.ndim == 4 || z.ndim == 5) {
        const int64_t *sh = z.shape + (z.ndim - 4);
        s.n_frames = vd_vae_out_frames(cfg, sh[1]);
        s.h = sh[2] * vd_vae_spatial_factor(cfg);
        s.w = sh[3] * vd_vae_spatial_factor(cfg);
    }
    if (out_path && s.n_frames > 0) {
        const int64_t n = s.n_frames * s.h * s.w * cfg->out_channels;
        s.frames = malloc((size_t)n);
        s.video = malloc((size_t)n * sizeof(float));
        if (!s.frames || !s.video) {
            vd_error_set(&err, VD_ERR_OUT_OF_MEMORY, "cannot hold %lld frames for --out", (long long)s.n_frames);
            goto fail;
        }
    }
    vd_vae_decode_stats stats = {0};
    if (vd_vae_decode_tensor(vae, &z, &o, on_frame, &s, &stats, &err) != VD_OK) goto fail;
    if (s.vw) {
        vd_status st = vd_video_writer_close(s.vw, &err);
        s.vw = NULL;
        if (st != VD_OK) goto fail;
    }
    if (out_path) {
        int64_t fshape[4] = {s.n_frames, s.h, s.w, cfg->out_channels};
        int64_t vshape[5] = {1, cfg->out_channels, s.n_frames, s.h, s.w};
        vd_st_write_entry e[2] = {{"frames", VD_U8, 4, fshape, s.frames}, {"video", VD_F32, 5, vshape, s.video}};
        if (vd_st_write(out_path, e, 2, NULL, &err) != VD_OK) goto fail;
    }
    fprintf(stderr, "vdit vae-decode: %lld frames %lldx%lld in %.2f s (%d tile%s, %s)%s%s%s%s\n",
            (long long)stats.frames, (long long)s.w, (long long)s.h, stats.seconds, stats.n_tiles,
            stats.n_tiles == 1 ? "" : "s", vd_device_name(o.device), video_path ? " -> " : "",
            video_path ? video_path : "", out_path ? " -> " : "", out_path ? out_path : "");
    rc = 0;
fail:
    if (rc) fprintf(stderr, "vdit vae-decode: %s\n", err.msg);
    vd_video_writer_abort(s.vw);
    free(s.frames);
    free(s.video);
    vd_tensor_free(&z);
    vd_st_close(in);
    vd_vae_free(vae);
    return rc;
}
