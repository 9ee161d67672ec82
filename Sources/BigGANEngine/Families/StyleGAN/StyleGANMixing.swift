/// The style-mixing figure of NVlabs' `style_mixing.py` for `StyleGANGenerator` (see
/// `StyleMixRequest` for the layout, `Sampler.prepare(mix:)` for the checks).
extension StyleGANGenerator: StyleMixingGenerator {
    /// Style mixing: `row`'s styles with the layers in `layers` taken from `column`'s (each
    /// `[L, w_dim]`, from `styles`); returns `[L, w_dim]`.
    public func mixed(row: UnsafePointer<Float>, column: UnsafePointer<Float>, layers mixedLayers: Set<Int>) -> [Float] {
        let wd = config.wDim
        var out = [Float](repeating: 0, count: config.layers * wd)
        for layer in 0..<config.layers {
            let src = mixedLayers.contains(layer) ? column : row
            for k in 0..<wd { out[layer * wd + k] = src[layer * wd + k] }
        }
        return out
    }

    /// `[(rows+1)·(columns+1), R, R, C]` in row-major grid order: the blank corner (white), the
    /// columns' images, then per row its own image and its mixes with each column. The styles
    /// are truncated (ψ, cutoff, target as `mix.style`) before mixing, as NVlabs does.
    public func mixingGrid(_ mix: PreparedMix, maxBatch: Int) -> Tensor {
        let l = config.layers, wd = config.wDim, per = l * wd, rows = mix.rowSeeds.count
        let seeds = mix.rowSeeds + mix.columnSeeds
        let z = Tensor(shape: [seeds.count, config.zDim], values: mix.latents.flatMap { $0 })
        let labels = Tensor(shape: [seeds.count, mix.conditioning.count],
                            values: Array(repeating: mix.conditioning, count: seeds.count).flatMap { $0 })
        let ws = styles(z: z, labels: labels, truncation: mix.truncation, style: mix.style)
        let own = { (i: Int) in Array(UnsafeBufferPointer(start: ws.data + i * per, count: per)) }
        // The blank corner is rendered as a copy of the first column's image, then painted white.
        var cells: [[Float]] = [own(rows)], cellSeeds: [UInt64] = [mix.columnSeeds[0]]
        for c in mix.columnSeeds.indices { cells.append(own(rows + c)); cellSeeds.append(mix.columnSeeds[c]) }
        for r in mix.rowSeeds.indices {
            cells.append(own(r)); cellSeeds.append(mix.rowSeeds[r])
            for c in mix.columnSeeds.indices {
                cells.append(mixed(row: ws.data + r * per, column: ws.data + (rows + c) * per, layers: mix.styles))
                cellSeeds.append(mix.rowSeeds[r])
            }
        }
        let side = config.resolution, image = side * side * config.outChannels
        let out = Tensor(uninitializedShape: [cells.count, side, side, config.outChannels])
        var start = 0
        while start < cells.count {
            let m = min(max(1, maxBatch), cells.count - start)
            let chunk = Tensor(shape: [m, l, wd], values: cells[start..<start + m].flatMap { $0 })
            let images = synthesis(ws: chunk, noise: noiseMode(mix.style.noise, seeds: Array(cellSeeds[start..<start + m])))
            (out.data + start * image).update(from: images.data, count: images.count)
            start += m
        }
        for k in 0..<image { out.data[k] = 1 }
        return out
    }
}
