/// kserve-sim has no GPU, so it answers the CUDA shared-memory calls as a Triton built
/// without GPU support does: no CUDA region can be registered, so status lists none and
/// unregistering (which perf_analyzer does for both kinds before it starts) succeeds.
enum CUDASharedMemory {
    static func registerRefusal(region: String) -> String {
        "failed to register CUDA shared memory region: '\(region)': kserve-sim has no CUDA shared memory (no GPUs); use system shared memory"
    }

    static func unknownRegion(_ name: String) -> String {
        "Unable to find cuda shared memory region: '\(name)': kserve-sim has no CUDA shared memory (no GPUs)"
    }
}
