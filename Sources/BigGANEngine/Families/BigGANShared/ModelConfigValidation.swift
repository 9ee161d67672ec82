/// `ModelConfig.validate`: every number from the file is bounds-checked (`ConfigLimits`) before
/// any arithmetic uses it; the family adds its own rules (`BigGANVariant.validate`); derived
/// sizes are then computed with overflow checks.
extension ModelConfig {
    /// Checks bounds and internal consistency; `file` names the checkpoint in the error.
    public func validate(file: String) throws {
        func fail(_ why: String) -> CheckpointError { CheckpointError(file: file, "config: \(why)") }
        func within(_ v: Int, _ r: ClosedRange<Int>, _ what: String) throws {
            guard r.contains(v) else { throw fail("\(what) \(v) out of range \(r.lowerBound)...\(r.upperBound)") }
        }
        typealias L = ConfigLimits
        guard formatVersion == 1 else { throw fail("format_version \(formatVersion) is not supported (expected 1)") }
        // 1. Every number on its own.
        try within(resolution, 1...L.maxResolution, "resolution")
        try within(dimZ, 1...L.maxVectorWidth, "dim_z")
        try within(sharedDim, 1...L.maxVectorWidth, "shared_dim")
        try within(nClasses, 1...L.maxClasses, "n_classes")
        if let names = classNames, names.count != nClasses { throw fail("\(names.count) class_names for \(nClasses) classes") }
        try within(ch, 1...L.maxChannels, "ch")
        try within(bottomWidth, 1...L.maxBottomWidth, "bottom_width")
        guard (1...L.maxBlocks).contains(blocks.count) else { throw fail("needs 1 to \(L.maxBlocks) blocks, has \(blocks.count)") }
        for (i, b) in blocks.enumerated() {
            guard (1...L.maxChannels).contains(b.inChannels), (1...L.maxChannels).contains(b.outChannels) else {
                throw fail("block \(i) has bad channel counts \(b.inChannels) → \(b.outChannels) (allowed 1...\(L.maxChannels))")
            }
        }
        guard outChannels == 1 || outChannels == 3 else { throw fail("out_channels must be 1 or 3, is \(outChannels)") }
        guard bnEps.isFinite, bnEps > 0, bnEps <= 1 else { throw fail("bn_eps \(bnEps) must be in (0, 1]") }
        if let e = outputBnEps { guard e.isFinite, e > 0, e <= 1 else { throw fail("output_bn_eps \(e) must be in (0, 1]") } }
        if let n = nStats { try within(n, 1...L.maxStats, "n_stats") }
        guard attention.count <= L.maxBlocks else { throw fail("\(attention.count) attention entries (at most \(L.maxBlocks))") }
        for a in attention { try within(a, 1...L.maxResolution, "attention resolution") }
        // 2. Relations between them (all operands now bounded).
        for i in blocks.indices.dropFirst() where blocks[i - 1].outChannels != blocks[i].inChannels {
            throw fail("block \(i) input \(blocks[i].inChannels) != block \(i - 1) output \(blocks[i - 1].outChannels)")
        }
        var r = bottomWidth
        for (i, b) in blocks.enumerated() where b.up {
            guard r <= L.maxResolution / 2 else { throw fail("block \(i) upsamples past the largest resolution \(L.maxResolution)") }
            r *= 2
        }
        guard r == resolution else { throw fail("blocks upsample \(bottomWidth) to \(r), not to resolution \(resolution)") }
        let res = blockResolutions
        for a in attention {
            guard let i = res.firstIndex(of: a) else { throw fail("no block outputs attention resolution \(a)") }
            let c = blocks[i].outChannels
            guard c >= 8, c % 8 == 0, a % 2 == 0 else { throw fail("attention at \(a) needs even size and channels divisible by 8 (has \(c))") }
        }
        // 3. The family's own rules.
        guard let variant else {
            throw fail("architecture \(Echo.quoted(architecture.rawValue)) is not a BigGAN family")
        }
        try variant.validate(self, fail: fail)
        // 4. Products: memory per image and in the model.
        guard let act = peakActivationElements, act <= L.maxActivationElements else {
            throw fail("one image needs \(peakActivationElements.map(String.init) ?? "more than Int.max") activation values (limit \(L.maxActivationElements))")
        }
        let tally = storedScalarTally
        guard let total = tally.value, total <= L.maxParameters, tally.largest <= L.maxTensorElements else {
            throw fail("the model would hold \(tally.value.map(String.init) ?? "more than Int.max") scalars, largest tensor \(tally.largest) "
                        + "(limits \(L.maxParameters) and \(L.maxTensorElements))")
        }
    }
}
