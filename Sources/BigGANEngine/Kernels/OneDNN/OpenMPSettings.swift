import Foundation

/// OpenMP settings for the executables, which libgomp (oneDNN's thread runtime) reads only once,
/// from the environment, as the process loads it.
public enum OpenMPSettings {
    /// How many iterations an idle OpenMP thread spins before it sleeps (`GOMP_SPINCOUNT`).
    public static let spinCount = 10_000

    /// Restarts the process once (same pid, same arguments) with `GOMP_SPINCOUNT=spinCount`
    /// unless the environment already says how OpenMP threads wait (`OMP_WAIT_POLICY` or
    /// `GOMP_SPINCOUNT`). Call first thing in `main`; if the restart fails, the process goes on
    /// with libgomp's default.
    ///
    /// libgomp's default spins about 300,000 iterations. Next to other CPU-bound work (a training
    /// run beside the server) spinning threads wait on descheduled peers at every barrier: a
    /// BigGAN-deep-128 image took 380–540 ms; 10,000 spins 109–116 ms; passive waiting 82–86 ms.
    /// On an idle machine passive waiting cost 5% at batch 1 (a wake-up per primitive) and 10,000
    /// spins about 2% (within noise) against the default (BENCHMARKS.md).
    public static func restartWithShortSpinIfNeeded() {
        let env = ProcessInfo.processInfo.environment
        guard env["OMP_WAIT_POLICY"] == nil, env["GOMP_SPINCOUNT"] == nil else { return }
        setenv("GOMP_SPINCOUNT", String(spinCount), 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
    }
}
