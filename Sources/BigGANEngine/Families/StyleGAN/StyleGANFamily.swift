import Foundation

/// Registry entry of the `stylegan` family: StyleGAN v1 (`StyleGANGenerator`, `StyleGANConfig`).
public enum StyleGANFamily: GeneratorFamily {
    public static let architecture = "stylegan"

    public static func build(configJSON: String, weights: WeightSource, file: String) throws -> any Generator {
        let config: StyleGANConfig
        do {
            config = try JSONDecoder().decode(StyleGANConfig.self, from: Data(configJSON.utf8))
        } catch {
            throw CheckpointError(file: file, "config is not a valid stylegan config: \(error)")
        }
        return try StyleGANGenerator(config: config, weights: weights, file: file)
    }
}
