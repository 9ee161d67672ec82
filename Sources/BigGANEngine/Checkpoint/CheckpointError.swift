/// A checkpoint that cannot be used: names the file and, where it applies, the tensor.
public struct CheckpointError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let tensor: String?
    public let reason: String

    public init(file: String, tensor: String? = nil, _ reason: String) {
        self.file = file; self.tensor = tensor; self.reason = reason
    }

    public var description: String {
        if let tensor { return "\(file): tensor '\(tensor)': \(reason)" }
        return "\(file): \(reason)"
    }
}
