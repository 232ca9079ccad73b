// Device memory plan of the CUDA Wan forward (shared by wan_dit_cuda.cu, `vdit info` and the
// benchmark, so the numbers printed are the numbers allocated).
#include <stdlib.h>

#include "dit/wan_dit_cuda.h"

#define ALIGN256(x) (((x) + 255) & ~(size_t)255)

bool vd_wan_cuda_role_is_bf16(const vd_wan_tensor_spec *s) {
    if (!s->gemm) return false;
    if (s->block < 0 && (s->role == VD_WAN_TIME1_W || s->role == VD_WAN_TIME2_W || s->role == VD_WAN_TPROJ_W))
        return false; // 1-row GEMVs in fp32 (orig Wan keeps the time MLP in fp32)
    return true;
}

void vd_wan_cuda_plan_for(const vd_wan_config *c, int64_t N, int64_t Lt, vd_wan_cuda_plan *p) {
    const size_t C = (size_t)c->dim, P = (size_t)c->patch[0] * c->patch[1] * c->patch[2];
    const size_t n = (size_t)N, lt = (size_t)Lt;
    // Weights: the sum over the tensor table, each tensor 256-aligned.
    int ns = vd_wan_spec_count(c);
    vd_wan_tensor_spec *specs = calloc((size_t)ns, sizeof *specs);
    size_t wb = 0;
    if (specs) {
        vd_wan_spec_fill(c, VD_WAN_LAYOUT_DIFFUSERS, specs);
        for (int i = 0; i < ns; i++) {
            size_t numel = 1;
            for (int d = 0; d < specs[i].ndim; d++) numel *= (size_t)specs[i].shape[d];
            wb += ALIGN256(numel * (vd_wan_cuda_role_is_bf16(&specs[i]) ? 2 : 4));
        }
        free(specs);
    }
    p->weight_bytes = wb;
    size_t off = 0;
#define TAKE(field, bytes) do { p->field = off; off += ALIGN256((size_t)(bytes)); } while (0)
    size_t io = (size_t)(c->in_channels > c->out_channels ? c->in_channels : c->out_channels) * P;
    TAKE(x, n * C * 4);
    TAKE(tb, n * C * 2);
    // Aliases (lifetimes inside a block, wan_dit_cuda.cu block_forward):
    //   ob = hb: attention writes its output after the q/k/v GEMMs have consumed hb.
    //   ffn = qb..vb: the FFN hidden lives only after both attentions are done.
    // Saves 4 x N x C bytes (14B at 75,600 tokens: 1.55 GB) against separate buffers.
    TAKE(hb, n * C * 2);
    p->ob = p->hb;
    {
        size_t qkv = 3 * ALIGN256(n * C * 2), ffn = n * (size_t)c->ffn_dim * 2;
        p->qb = off;
        p->kb = off + ALIGN256(n * C * 2);
        p->vb = p->kb + ALIGN256(n * C * 2);
        p->ffn = off;
        off += ALIGN256(qkv > ffn ? qkv : ffn);
    }
    TAKE(tok, n * io * 4);
    TAKE(tokb, n * (size_t)c->in_channels * P * 2);
    TAKE(ctx_in, lt * (size_t)c->text_dim * 2);
    TAKE(ctx_t, lt * C * 4);
    TAKE(ctx_eb, lt * C * 2);
    TAKE(ckb, lt * C * 2);
    TAKE(cvb, lt * C * 2);
    TAKE(vec, (C + 6 * C + (size_t)c->freq_dim + C) * 4);
    TAKE(rope, (size_t)3 * c->rope_max_seq_len * (size_t)(c->head_dim / 2) * 2 * 4);
#undef TAKE
    p->arena_bytes = off;
}
