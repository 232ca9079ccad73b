// Wan VAE: stand-ins used when the build has no CUDA.
#include "dit/vae_model.h"

const vd_vae_backend *vd_vae_backend_cuda(void) { return NULL; }
void vd_vae_cuda_release(vd_vae *v) { (void)v; }
const vd_vae_backend *vd_vae_backend_cudnn(void) { return NULL; }
void vd_vae_cudnn_release(vd_vae *v) { (void)v; }
bool vd_vae_cudnn_available(void) { return false; }
