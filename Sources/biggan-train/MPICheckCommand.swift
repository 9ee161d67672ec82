import ArgumentParser
import BigGANTraining
import Foundation

/// `biggan-train mpi-check`: whether this process runs alone or in an mpirun job, and whether
/// the job's reductions work (each rank contributes rank + 1; every rank must see the same sum).
struct MPICheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mpi-check",
        abstract: "Check data-parallel training's MPI set-up: run as `mpirun -np N biggan-train mpi-check`.")

    func run() throws {
        let world: MPIWorld?
        do { world = try MPIWorld.launch() } catch let e as MPIWorld.LaunchError { throw TrainError(e.description) }
        guard let world else {
            print("1 process (not started by mpirun): training runs as a single process")
            return
        }
        var f: [Float] = [Float(world.rank + 1), 1]
        var d: [Double] = [Double(world.rank + 1) / 3, 1]
        f.withUnsafeMutableBufferPointer { world.sum($0.baseAddress!, count: 2) }
        d.withUnsafeMutableBufferPointer { world.sum($0.baseAddress!, count: 2) }
        let n = world.size, expected = Double(n * (n + 1) / 2)
        let ok = f[0] == Float(expected) && f[1] == Float(n) && abs(d[0] - expected / 3) < 1e-12 && d[1] == Double(n)
        if world.isRoot || !ok {
            print("rank \(world.rank) of \(n) ranks: sum of rank+1 = \(Int(f[0])) (expected \(Int(expected))), double sum \(d[0] * 3): \(ok ? "ok" : "WRONG")")
        }
        world.finalize()
        if !ok { throw ExitCode.failure }
    }
}
