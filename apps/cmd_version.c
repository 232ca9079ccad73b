#include <stdio.h>

#include "apps/commands.h"
#include "lib/device.h"

int cmd_version(int argc, char **argv) {
    (void)argc; (void)argv;
    printf("vdit %s\n", VDIT_VERSION);
#ifdef VDIT_HAVE_CUDA
    printf("cuda: built in; device %s\n", vd_cuda_available() ? "available" : "not available");
#else
    printf("cuda: not built\n");
#endif
#ifdef VDIT_HAVE_FFMPEG
    printf("ffmpeg: yes\n");
#else
    printf("ffmpeg: no\n");
#endif
    return 0;
}
