import BigGANEngine
import BigGANImage
import Foundation

/// Test data shared by the test targets (a library, not a test target, so that each can link it).
public enum RandomImageFolder {
    /// Writes `root/<class>/<i>.png` for every class name: `perClass` images of `size`×`size`
    /// pixels with `channels` channels (3: colour PNGs, 1: greyscale PNGs), every byte drawn from
    /// `rng`. With `greyEvery` n > 0, images `i` with `i % n == 0` are greyscale PNGs whatever
    /// `channels` is (a folder of mixed modes). Returns `root`.
    @discardableResult
    public static func write(at root: URL, classes: [String], perClass: Int, size: Int, channels: Int = 3, greyEvery: Int = 0,
                             rng: inout NoiseGenerator) throws -> URL {
        for cls in classes {
            let dir = root.appendingPathComponent(cls)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for i in 0..<perClass {
                var img = Image8(width: size, height: size, channels: greyEvery > 0 && i % greyEvery == 0 ? 1 : channels)
                for j in 0..<img.pixels.count { img.pixels[j] = UInt8(rng.nextUInt64() % 256) }
                try Data(try PNGCodec.encode(img)).write(to: dir.appendingPathComponent("\(i).png"))
            }
        }
        return root
    }

    /// The same from a fresh generator seeded with `seed`.
    @discardableResult
    public static func write(at root: URL, classes: [String], perClass: Int, size: Int, channels: Int = 3, greyEvery: Int = 0,
                             seed: UInt64) throws -> URL {
        var rng = NoiseGenerator(seed: seed)
        return try write(at: root, classes: classes, perClass: perClass, size: size, channels: channels, greyEvery: greyEvery, rng: &rng)
    }
}
