import Foundation

/// One generator family (BigGAN, BigGAN-deep, StyleGAN, BigBiGAN): how a checkpoint whose
/// config names `architecture` becomes a `Generator`. A family lives in its own folder under
/// `Families/` and is listed once in `GeneratorFamilies.builtIn`; nothing else in the engine, the
/// server or the CLI switches on families (they read `Generator.info` and `.capabilities`).
public protocol GeneratorFamily {
    /// The value of the checkpoint config's `architecture` field that selects this family.
    static var architecture: String { get }
    /// Decodes the family's own config from the checkpoint's config JSON, validates it, and builds
    /// the generator from `weights`. Every problem is a `CheckpointError` naming `file`.
    static func build(configJSON: String, weights: WeightSource, file: String) throws -> any Generator
}

/// The registry of generator families, keyed by the config's `architecture` field.
///
/// `builtIn` is the one list a new family is added to. `register` adds a family at run time
/// (a plug-in, or a test's family) without changing the engine.
public enum GeneratorFamilies {
    /// The families this build serves.
    public static let builtIn: [any GeneratorFamily.Type] = [BigGANFamily.self, BigGANDeepFamily.self, StyleGANFamily.self, BigBiGANFamily.self]

    private final class Store: @unchecked Sendable {
        let lock = NSLock()
        var extra: [any GeneratorFamily.Type] = []
    }
    private static let store = Store()

    /// Every family, built-in first, in registration order.
    public static var all: [any GeneratorFamily.Type] {
        store.lock.lock(); defer { store.lock.unlock() }
        return builtIn + store.extra
    }

    /// Adds `family`; a family already registered under the same `architecture` is replaced
    /// (built-in families cannot be replaced).
    public static func register(_ family: any GeneratorFamily.Type) {
        precondition(!builtIn.contains { $0.architecture == family.architecture }, "\(family.architecture) is a built-in family")
        store.lock.lock(); defer { store.lock.unlock() }
        store.extra.removeAll { $0.architecture == family.architecture }
        store.extra.append(family)
    }

    /// The family for a config's `architecture` value, or nil.
    public static func family(for architecture: String) -> (any GeneratorFamily.Type)? {
        all.first { $0.architecture == architecture }
    }

    /// The family named by `configJSON`'s `architecture` field.
    /// - Throws: `CheckpointError` when the field is missing or names no registered family.
    public static func family(configJSON: String, file: String) throws -> any GeneratorFamily.Type {
        struct Head: Decodable { let architecture: String }
        let head: Head
        do { head = try JSONDecoder().decode(Head.self, from: Data(configJSON.utf8)) }
        catch DecodingError.keyNotFound { throw CheckpointError(file: file, "config: missing field 'architecture'") }
        catch DecodingError.typeMismatch { throw CheckpointError(file: file, "config: 'architecture' must be a string") }
        catch { throw CheckpointError(file: file, "config: not a JSON object (\(error))") }
        guard let f = family(for: head.architecture) else {
            throw CheckpointError(file: file, "config: unknown architecture \(Echo.quoted(head.architecture)); this build serves "
                                  + all.map { $0.architecture }.joined(separator: ", "))
        }
        return f
    }
}
