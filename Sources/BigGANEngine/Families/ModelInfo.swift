/// What every generator tells its users, whatever its family: the fields of the checkpoint
/// config that routes, the CLI, the gallery and the evaluation read.
public struct ModelInfo: Sendable, Equatable {
    /// The config's `architecture`: the family's registry key.
    public var architecture: String
    /// Output images are `resolution × resolution × channels`.
    public var resolution: Int
    public var channels: Int
    /// Width of the input latent z.
    public var dimZ: Int
    /// One name per class (`class i` where the checkpoint has none). An unconditional model has
    /// one class, which requests never name.
    public var classNames: [String]
    /// The training data (`fashion-mnist`, `folder:<root>`, ...), for neighbours and evaluation.
    public var dataset: String?
    /// File name of the data-set classifier next to the checkpoint.
    public var classifier: String?
    /// Free text: where the weights come from.
    public var provenance: String?
    /// The checkpoint's config, as canonical JSON (sorted keys).
    public var configJSON: String

    public init(architecture: String, resolution: Int, channels: Int, dimZ: Int, classNames: [String],
                dataset: String? = nil, classifier: String? = nil, provenance: String? = nil, configJSON: String) {
        self.architecture = architecture; self.resolution = resolution; self.channels = channels; self.dimZ = dimZ
        self.classNames = classNames; self.dataset = dataset; self.classifier = classifier; self.provenance = provenance
        self.configJSON = configJSON
    }

    public var nClasses: Int { classNames.count }

    /// Class `i`'s name.
    public func className(_ i: Int) -> String { classNames.indices.contains(i) ? classNames[i] : "class \(i)" }
}
