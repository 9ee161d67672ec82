import Foundation

/// OpenMP settings for the executables, which libgomp (oneDNN's thread runtime) reads only once,
/// from the environment, as the process loads it.
public enum OpenMPSettings {
    /// Restarts the process once (same pid, same arguments) with `OMP_WAIT_POLICY=PASSIVE`
    /// unless the environment already says how OpenMP threads wait. Call first thing in `main`.
    ///
    /// libgomp's default lets an idle thread spin for about 300,000 iterations before sleeping.
    /// On a machine shared with other CPU-bound work (a training run next to the server) spinning
    /// threads wait on descheduled peers at every barrier: a BigGAN-deep-128 image took 300–540 ms
    /// instead of 103–117 ms with passive waiting; on an idle machine the two measured alike
    /// (BENCHMARKS.md). If the restart fails, the process goes on with the default.
    public static func restartWithPassiveWaitIfNeeded() {
        let env = ProcessInfo.processInfo.environment
        guard env["OMP_WAIT_POLICY"] == nil, env["GOMP_SPINCOUNT"] == nil else { return }
        setenv("OMP_WAIT_POLICY", "PASSIVE", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
    }
}
