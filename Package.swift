// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "BigGANServer",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "biggan", targets: ["biggan"]),
        .executable(name: "biggan-bench", targets: ["biggan-bench"]),
        .executable(name: "biggan-server", targets: ["biggan-server"]),
        .executable(name: "biggan-train", targets: ["biggan-train"]),
        .library(name: "BigGANEngine", targets: ["BigGANEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    ],
    targets: [
        // C libraries, found through pkg-config (Debian package names in `providers`).
        .systemLibrary(name: "CBigGANOpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CBigGANDNNL", providers: [.apt(["libdnnl-dev"])]),
        .systemLibrary(name: "CBigGANPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CBigGANMicroHTTPD", pkgConfig: "libmicrohttpd", providers: [.apt(["libmicrohttpd-dev"])]),
        .systemLibrary(name: "CBigGANZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Open MPI, opened at run time only under mpirun (dlopen): no build or run-time dependency otherwise.
        .systemLibrary(name: "CBigGANMPI"),

        // Engine: tensors, kernels, checkpoints, models, sampling. No HTTP, SQLite or PNG.
        .target(name: "BigGANEngine", dependencies: ["CBigGANOpenBLAS", "CBigGANDNNL"]),
        // PNG encoding of engine images (libpng simplified API).
        .target(name: "BigGANImage", dependencies: ["CBigGANPNG", "BigGANEngine"]),

        // The `biggan` command line, as a library so tests can run its commands in-process.
        .target(name: "BigGANCLI", dependencies: [
            "BigGANEngine", "BigGANImage", "BigGANEvaluation",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "biggan", dependencies: ["BigGANCLI", "BigGANEngine"]),

        // Data sets: Fashion-MNIST IDX files (gzip through zlib) and folders of PNGs.
        .target(name: "BigGANDatasets", dependencies: ["CBigGANZlib", "BigGANEngine", "BigGANImage"]),

        // Evaluation and nearest neighbours: data-set references, neighbour indices (pixel and
        // classifier-feature space), Fréchet distance, Inception-style score, sample accuracy.
        .target(name: "BigGANEvaluation", dependencies: ["BigGANEngine", "BigGANDatasets"]),

        // Training: gradients of every layer, discriminator, losses, optimiser, data sets.
        .target(name: "BigGANTraining", dependencies: ["BigGANEngine", "BigGANImage", "BigGANDatasets", "CBigGANMPI"]),
        .executableTarget(name: "biggan-train", dependencies: [
            "BigGANTraining", "BigGANEngine", "BigGANImage", "BigGANDatasets", "BigGANEvaluation",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // HTTP server: routes as plain request → response functions, compute worker, request log, metrics.
        .target(name: "BigGANServer", dependencies: [
            "BigGANEngine", "BigGANImage", "BigGANEvaluation",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The thin libmicrohttpd adapter.
        .target(name: "BigGANMHD", dependencies: ["CBigGANMicroHTTPD", "BigGANServer", .product(name: "Logging", package: "swift-log")]),
        .executableTarget(name: "biggan-server", dependencies: [
            "BigGANServer", "BigGANMHD", "BigGANEngine",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "biggan-bench", dependencies: [
            "BigGANEngine", "BigGANCLI", "BigGANTraining",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Helpers shared by the test targets (paths, temporary folders, random tensors and image folders,
        // running the executables); not a product.
        .target(name: "BigGANTestSupport", dependencies: ["BigGANEngine", "BigGANImage"], path: "Tests/BigGANTestSupport"),
        .testTarget(name: "BigGANEngineTests", dependencies: ["BigGANEngine", "BigGANTestSupport"]),
        .testTarget(name: "BigGANImageTests", dependencies: ["BigGANImage", "BigGANEngine", "BigGANTestSupport"]),
        .testTarget(name: "BigGANCLITests", dependencies: [
            "BigGANCLI", "BigGANImage", "BigGANEngine", "BigGANTestSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "BigGANTrainingTests", dependencies: ["BigGANTraining", "BigGANEngine", "BigGANTestSupport"]),
        .testTarget(name: "BigGANEvaluationTests", dependencies: ["BigGANEvaluation", "BigGANEngine", "BigGANDatasets", "BigGANTestSupport"]),
        // Runs the real biggan-train executable: resume after kill -9, bad data.
        .testTarget(name: "TrainingRunTests", dependencies: ["BigGANEngine", "BigGANImage", "BigGANTestSupport"]),
        .testTarget(name: "BigGANDatasetsTests", dependencies: ["BigGANDatasets", "BigGANEngine", "BigGANImage", "BigGANTestSupport"]),
        .testTarget(name: "BigGANServerTests", dependencies: ["BigGANServer", "BigGANMHD", "BigGANEngine", "BigGANImage", "BigGANTestSupport"]),
    ]
)

// One build configuration for everything: release builds of this package's own targets keep
// `-enable-testing`, so `swift run -c release biggan-server` and
// `swift test -c release --disable-testable-imports` (whose tests `@testable import` the modules)
// share one build instead of rebuilding each other.
for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-enable-testing"], .when(configuration: .release))]
}
