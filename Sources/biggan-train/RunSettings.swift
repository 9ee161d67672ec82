import BigGANEvaluation
import BigGANTraining
import Foundation

/// Everything a training run was started with, saved as JSON in the state's metadata
/// (`extra.run`), so that `--resume` continues with the same values whatever flags it is given.
struct RunSettings: Codable, Equatable {
    /// The data set in absolute form (`folder:/abs/root`, `fashion-mnist`, `fashion-mnist:/abs/dir`).
    var data = "fashion-mnist"
    /// Image channels (1 or 3); a fresh run without `--channels` takes them from the data.
    var channels: Int?
    var iterations = 4000
    var batch = 32
    var dSteps = 2
    var gLr = 1e-4
    var dLr = 4e-4
    /// BigBiGAN only: E's learning rate; nil follows `gLr` (and runs saved before it existed).
    var eLr: Double?
    var beta2 = 0.999
    var emaDecay = 0.999
    var emaStart = 500
    var gOrtho = 1e-4
    var gWidth = 32
    var dWidth = 16
    /// BigBiGAN only: E's channel unit; nil follows `dWidth` (and runs saved before it existed).
    var eWidth: Int?
    var dimZ = 64
    var seed: UInt64 = 0
    var checkpointEvery = 100
    var sampleEvery = 250
    var logEvery = 10
    /// DiffAugment policy (`translation,cutout`, `none`); nil in runs saved before it existed.
    var augment: String? = "none"
    /// Evaluate the EMA generator every N iterations (0: never); nil in older runs (never).
    var evalEvery: Int? = 500
    /// Samples per class in each evaluation (and real images in its reference row, in all).
    var evalPerClass: Int? = 100
    /// The evaluation classifier (absolute path); nil: the one the model's config names, next to `--out`.
    var evalClassifier: String?
    /// `biggan` or `stylegan`; nil in runs saved before StyleGAN training existed (BigGAN).
    var architecture: String?
    /// StyleGAN only: R1 γ and its lazy interval, the style-mixing probability, the EMA half-life
    /// in thousands of images, and the mapping network's depth.
    var r1Gamma: Double?
    var r1Interval: Int?
    var mixingProb: Double?
    var emaKimg: Double?
    var mappingLayers: Int?

    /// Whether the run trains a StyleGAN.
    var isStyleGAN: Bool { architecture == "stylegan" }

    /// A fresh run's defaults: BigGAN's (`init()`), or for StyleGAN NVlabs' v1 values at low
    /// resolution (learning rates 1e-3, β2 0.99, one D step per G step, R1 γ 10 every 4 D steps
    /// (lazy), mixing probability 0.9, EMA half-life 10k images, 8 mapping layers) with z = W = 128
    /// and channels 4w, 4w, 2w, w (w = 32) in G and D.
    static func defaults(architecture: String?) -> RunSettings {
        var s = RunSettings()
        if architecture == "bigbigan" {
            // BigGAN's G and D recipe; E learns at G's rate unless --e-lr; no orthogonal regulariser.
            s.architecture = "bigbigan"; s.gOrtho = 0
            return s
        }
        guard architecture == "stylegan" else { return s }
        s.architecture = "stylegan"
        s.gLr = 1e-3; s.dLr = 1e-3; s.beta2 = 0.99; s.dSteps = 1; s.dimZ = 128; s.gWidth = 32; s.dWidth = 32
        s.r1Gamma = 10; s.r1Interval = 4; s.mixingProb = 0.9; s.emaKimg = 10; s.mappingLayers = 8
        s.gOrtho = 0; s.emaDecay = 0; s.emaStart = 0
        return s
    }

    static let metadataKey = "run"

    var json: String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: (try? enc.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// The settings saved with a training state: `extra.run` when present; for a state written
    /// before it existed, what its configurations and data position record (the iteration target
    /// and intervals then take their defaults, and the data set is the generator config's).
    init(saved trainer: Trainer) throws {
        if let text = trainer.extraMetadata[Self.metadataKey] {
            do { self = try JSONDecoder().decode(RunSettings.self, from: Data(text.utf8)); return }
            catch { throw TrainError("the saved run settings (metadata extra.run) are unreadable: \(error)") }
        }
        let g = trainer.generator.config, t = trainer.config
        data = try g.dataset.map(Self.normalise) ?? ""
        channels = g.outChannels
        batch = t.batchSize; dSteps = t.dStepsPerGStep; gLr = t.gLearningRate; dLr = t.dLearningRate; beta2 = t.beta2
        emaDecay = t.emaDecay; emaStart = t.emaStart; gOrtho = t.gOrthogonal
        gWidth = g.ch; dWidth = trainer.discriminator.config.ch; dimZ = g.dimZ
        seed = trainer.extraMetadata["data_seed"].flatMap { UInt64($0) } ?? 0
    }

    init() {}

    /// The settings saved in a training state's metadata (`extra.run`), which every StyleGAN
    /// state has.
    init(savedMetadata m: [String: String]) throws {
        guard let text = m[Self.metadataKey] else { throw TrainError("the saved state has no run settings (metadata extra.run)") }
        do { self = try JSONDecoder().decode(RunSettings.self, from: Data(text.utf8)) }
        catch { throw TrainError("the saved run settings (metadata extra.run) are unreadable: \(error)") }
    }

    /// `text` as a data-set reference with its folder made absolute, so that a run resumed from
    /// another working directory compares and finds the same data.
    /// `path` made absolute against the current folder.
    static func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        return (full as NSString).standardizingPath
    }

    static func normalise(_ text: String) throws -> String {
        let ref = try DatasetReference(text)
        switch ref.kind {
        case .folder(let root): return "folder:" + absolute(root)
        case .fashionMNIST: return text == "fashion-mnist" ? text : "fashion-mnist:" + absolute(String(text.dropFirst("fashion-mnist:".count)))
        }
    }
}

/// One command-line flag that sets a `RunSettings` value, if the user gave it.
struct SettingFlag {
    let flag: String
    /// Whether a resumed run may change it (the iteration target and the intervals) or must keep
    /// the saved value (everything that shapes the model, the optimiser or the data).
    let changeableOnResume: Bool
    /// The given value when it differs from `settings`' (as text), else nil.
    let differs: (RunSettings) -> (given: String, saved: String)?
    let apply: (inout RunSettings) -> Void

    init?<T: Equatable>(_ flag: String, _ value: T?, _ key: WritableKeyPath<RunSettings, T>, changeableOnResume: Bool = false) {
        guard let value else { return nil }
        self.flag = flag
        self.changeableOnResume = changeableOnResume
        differs = { s in s[keyPath: key] == value ? nil : ("\(value)", "\(s[keyPath: key])") }
        apply = { $0[keyPath: key] = value }
    }

    /// A setting that may be unset in saved runs; `unset` describes what an unset value means.
    init?<T: Equatable>(_ flag: String, _ value: T?, _ key: WritableKeyPath<RunSettings, T?>, changeableOnResume: Bool = false,
                        unset: @escaping (RunSettings) -> String = { _ in "unknown" }) {
        guard let value else { return nil }
        self.flag = flag
        self.changeableOnResume = changeableOnResume
        differs = { s in s[keyPath: key] == value ? nil : ("\(value)", s[keyPath: key].map { "\($0)" } ?? unset(s)) }
        apply = { $0[keyPath: key] = value }
    }

    /// The settings of a run: the defaults with the given flags for a new run; for `--resume`,
    /// the saved settings, with the iteration target and intervals changed by flags that give
    /// them, and every other given flag that differs from the saved value refused (all of them
    /// named in one error). Returns the settings and the flags that changed a saved value.
    static func resolve(_ flags: [SettingFlag], saved: RunSettings?, architecture: String? = nil) throws -> (RunSettings, changed: [String]) {
        guard var s = saved else {
            var fresh = RunSettings.defaults(architecture: architecture)
            for f in flags { f.apply(&fresh) }
            return (fresh, [])
        }
        var conflicts: [String] = [], changed: [String] = []
        for f in flags {
            guard let d = f.differs(s) else { continue }
            if f.changeableOnResume { changed.append("\(f.flag) \(d.given) (was \(d.saved))") }
            else { conflicts.append("  \(f.flag) \(d.given): the saved run uses \(d.saved)") }
        }
        guard conflicts.isEmpty else {
            throw TrainError("--resume continues the saved run with its own settings, and these flags differ from them:\n"
                             + conflicts.joined(separator: "\n")
                             + "\nleave them out to use the saved values, or start a new run in another --run-dir")
        }
        for f in flags where f.changeableOnResume { f.apply(&s) }
        return (s, changed)
    }
}
