import BigGANDatasets
import BigGANEngine
import Foundation

/// What linear probes read from an encoder (BigBiGAN, section 4): for a set of images `[N, R, R, C]`
/// in [−1, 1], its `z_mean` `[N, z_dim]`, pooled features `[N, feature_width]` and the raw pixels
/// `[N, R·R·C]` (the baseline), encoded in batches of 256.
public struct EncoderRepresentations {
    public let zMean: Tensor, features: Tensor, pixels: Tensor

    /// Encodes every image of `set` (or the rows `indices` of it, in that order); `progress` gets
    /// the number of images done after each batch.
    public init(_ set: ImageDataset, indices: [Int]? = nil, encoder enc: any ImageEncoder, progress: (Int) -> Void = { _ in }) {
        let rows = indices ?? Array(0..<set.count)
        let n = rows.count, zd = enc.encoderInfo.dimZ, f = enc.encoderInfo.featureWidth, p = set.imageBytes
        let z = Tensor(uninitializedShape: [n, zd]), feats = Tensor(uninitializedShape: [n, f]), px = Tensor(uninitializedShape: [n, p])
        var start = 0
        while start < n {
            let m = min(256, n - start)
            let x = set.batch(Array(rows[start..<(start + m)])).images
            let out = enc.encode(x)
            (z.data + start * zd).update(from: out.zMean.data, count: m * zd)
            (feats.data + start * f).update(from: out.features.data, count: m * f)
            (px.data + start * p).update(from: x.data, count: m * p)
            start += m
            progress(start)
        }
        zMean = z; features = feats; pixels = px
    }
}
