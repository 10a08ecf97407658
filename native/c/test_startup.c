/* The library's first call in a fresh process, run many times by CTest (startup_loop.cmake). The first call creates
 * the CPU backend, whose worker threads start while the calling thread goes on into the runtime; a NativeAOT class
 * construction race there once aborted about one process in twenty (CpuWorkerPool explains the fix). Exit code 0 = pass. */
#include "test_util.h"

int main(void) {
    float data[6] = {1, 2, 3, 4, 5, 6};
    int64_t shape[2] = {2, 3};
    hpc_tensor* t = make_f32(data, shape, 2);
    float back[6] = {0};
    OK(hpc_tensor_copy_to(t, back, sizeof back));
    CHECK(memcmp(data, back, sizeof back) == 0, "the tensor should hold the caller's values");
    OK(hpc_tensor_free(t));
    return failures ? 1 : 0;
}
