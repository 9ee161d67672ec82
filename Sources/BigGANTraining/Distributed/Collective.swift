import BigGANEngine
import CBigGANMPI
import Foundation

/// The processes a training run spans and the reductions data-parallel training needs (issue
/// 16): `SingleProcess` without mpirun, `MPIWorld` under it. Every rank calls each reduction in
/// the same order with the same count.
public protocol Collective: AnyObject {
    var rank: Int { get }
    var size: Int { get }
    /// Replaces `values[0..<count]` on every rank by their sum over the ranks.
    func sum(_ values: UnsafeMutablePointer<Float>, count: Int)
    func sum(_ values: UnsafeMutablePointer<Double>, count: Int)
}

extension Collective {
    public var isRoot: Bool { rank == 0 }

    /// Replaces every element by its mean over the ranks.
    public func average(_ values: UnsafeMutablePointer<Float>, count: Int) {
        guard size > 1 else { return }
        sum(values, count: count)
        let inv = 1 / Float(size)
        for i in 0..<count { values[i] *= inv }
    }
}

/// The process's place in a data-parallel job: `SingleProcess` unless biggan-train was started
/// by mpirun. Cross-replica batch norm (`BatchNormCore`) and the trainers' gradient averaging
/// read it; set once at start-up, before any training step.
public enum Distributed {
    nonisolated(unsafe) public static var world: Collective = SingleProcess()

    /// The rows of a global batch of `count` that this rank takes: `⌊r·count/N⌋ ..< ⌊(r+1)·count/N⌋`.
    public static func share(of count: Int) -> Range<Int> {
        let r = world.rank, n = world.size
        return (r * count / n)..<((r + 1) * count / n)
    }
}

/// One process: every reduction is the identity.
public final class SingleProcess: Collective {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func sum(_ values: UnsafeMutablePointer<Float>, count: Int) {}
    public func sum(_ values: UnsafeMutablePointer<Double>, count: Int) {}
}

/// The ranks of an `mpirun` job (Open MPI), through `libmpi.so.40` opened at run time.
public final class MPIWorld: Collective, @unchecked Sendable {
    public let rank: Int, size: Int
    private let allreduce: bg_mpi_allreduce_fn, finalizeCall: bg_mpi_finalize_fn, abortCall: bg_mpi_abort_fn
    private let world: UnsafeMutableRawPointer, float: UnsafeMutableRawPointer, double: UnsafeMutableRawPointer,
                opSum: UnsafeMutableRawPointer
    /// Scratch for the reductions' send side (MPI_IN_PLACE is not relied on).
    private var scratch: UnsafeMutableRawPointer?, scratchBytes = 0

    public struct LaunchError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The job's size from the launcher's environment (Open MPI's `OMPI_COMM_WORLD_SIZE`, or
    /// PMIx's `PMIX_SIZE`); nil without mpirun.
    public static var launcherSize: Int? {
        let env = ProcessInfo.processInfo.environment
        return (env["OMPI_COMM_WORLD_SIZE"] ?? env["PMIX_SIZE"]).flatMap(Int.init)
    }

    /// The world of the current `mpirun` job, or nil when the process was not started by one.
    /// - Throws: `LaunchError` naming the library when started by mpirun but MPI cannot be loaded
    ///   or initialised.
    public static func launch() throws -> MPIWorld? {
        guard let n = launcherSize else { return nil }
        // BIGGAN_MPI_LIBRARY names another libmpi (an Open MPI outside the loader's path).
        let names = ProcessInfo.processInfo.environment["BIGGAN_MPI_LIBRARY"].map { [$0] } ?? ["libmpi.so.40", "libmpi.so"]
        guard let lib = names.lazy.compactMap({ dlopen($0, RTLD_NOW | RTLD_GLOBAL) }).first else {
            throw LaunchError(description: "started by mpirun (\(n) ranks) but Open MPI's library could not be loaded (\(String(cString: dlerror()))): "
                              + "install openmpi-bin and libopenmpi3 (Debian), or run biggan-train without mpirun")
        }
        func symbol(_ name: String) throws -> UnsafeMutableRawPointer {
            guard let p = dlsym(lib, name) else { throw LaunchError(description: "libmpi has no \(name): an Open MPI 4 or newer library is needed") }
            return p
        }
        let world = try MPIWorld(symbol: symbol)
        guard world.size == n else { throw LaunchError(description: "MPI reports \(world.size) ranks, the launcher \(n)") }
        return world
    }

    private init(symbol: (String) throws -> UnsafeMutableRawPointer) throws {
        let initCall = unsafeBitCast(try symbol("MPI_Init"), to: bg_mpi_init_fn.self)
        let rankCall = unsafeBitCast(try symbol("MPI_Comm_rank"), to: bg_mpi_comm_rank_fn.self)
        let sizeCall = unsafeBitCast(try symbol("MPI_Comm_size"), to: bg_mpi_comm_size_fn.self)
        allreduce = unsafeBitCast(try symbol("MPI_Allreduce"), to: bg_mpi_allreduce_fn.self)
        finalizeCall = unsafeBitCast(try symbol("MPI_Finalize"), to: bg_mpi_finalize_fn.self)
        abortCall = unsafeBitCast(try symbol("MPI_Abort"), to: bg_mpi_abort_fn.self)
        world = try symbol("ompi_mpi_comm_world"); float = try symbol("ompi_mpi_float"); double = try symbol("ompi_mpi_double")
        opSum = try symbol("ompi_mpi_op_sum")
        guard initCall(nil, nil) == 0 else { throw LaunchError(description: "MPI_Init failed") }
        var r: Int32 = 0, s: Int32 = 0
        _ = rankCall(world, &r); _ = sizeCall(world, &s)
        rank = Int(r); size = Int(s)
    }

    deinit { scratch?.deallocate() }

    private func send(_ bytes: Int) -> UnsafeMutableRawPointer {
        if bytes > scratchBytes {
            scratch?.deallocate()
            scratch = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            scratchBytes = bytes
        }
        return scratch!
    }

    private func reduce(_ values: UnsafeMutableRawPointer, count: Int, elementBytes: Int, type: UnsafeMutableRawPointer) {
        var done = 0
        while done < count {
            let n = min(count - done, Int(Int32.max) / 2)
            let chunk = values + done * elementBytes
            let s = send(n * elementBytes)
            s.copyMemory(from: chunk, byteCount: n * elementBytes)
            let rc = allreduce(s, chunk, Int32(n), type, opSum, world)
            if rc != 0 { abort(message: "MPI_Allreduce failed (error \(rc))") }
            done += n
        }
    }

    public func sum(_ values: UnsafeMutablePointer<Float>, count: Int) { reduce(UnsafeMutableRawPointer(values), count: count, elementBytes: 4, type: float) }
    public func sum(_ values: UnsafeMutablePointer<Double>, count: Int) { reduce(UnsafeMutableRawPointer(values), count: count, elementBytes: 8, type: double) }

    /// Prints `message` and ends every rank of the job.
    public func abort(message: String) -> Never {
        FileHandle.standardError.write(Data("rank \(rank): \(message); ending the job\n".utf8))
        _ = abortCall(world, 1)
        exit(1)
    }

    public func finalize() { _ = finalizeCall() }
}
