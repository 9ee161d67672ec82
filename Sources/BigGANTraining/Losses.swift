/// Hinge losses of ajbrock's `losses.py` (the BigGAN paper's choice), with their gradients with
/// respect to the discriminator scores.
public enum HingeLoss {
    /// `lossReal = mean relu(1 − D(real))`, `lossFake = mean relu(1 + D(fake))`; the gradients are
    /// `−1/B` where `1 − D(real) > 0` and `+1/B` where `1 + D(fake) > 0`, else 0 (torch's ReLU
    /// gradient at 0 is 0).
    public static func discriminator(real: [Float], fake: [Float])
        -> (lossReal: Float, lossFake: Float, dReal: [Float], dFake: [Float]) {
        var lr = 0.0, lf = 0.0
        var dr = [Float](repeating: 0, count: real.count), df = [Float](repeating: 0, count: fake.count)
        for (i, v) in real.enumerated() where 1 - v > 0 { lr += Double(1 - v); dr[i] = -1 / Float(real.count) }
        for (i, v) in fake.enumerated() where 1 + v > 0 { lf += Double(1 + v); df[i] = 1 / Float(fake.count) }
        return (Float(lr / Double(max(real.count, 1))), Float(lf / Double(max(fake.count, 1))), dr, df)
    }

    /// `loss = −mean D(fake)`, gradient `−1/B` for every score.
    public static func generator(fake: [Float]) -> (loss: Float, dFake: [Float]) {
        let s = fake.reduce(0.0) { $0 + Double($1) }
        return (Float(-s / Double(max(fake.count, 1))), [Float](repeating: -1 / Float(fake.count), count: fake.count))
    }
}
