import BigGANTestSupport
import Testing
@testable import BigGANEngine

@Suite struct NeighbourTests {
    /// Brute force in double precision.
    func bruteForce(_ db: Tensor, _ labels: [Int], _ q: [Float], k: Int, label: Int?) -> [Int] {
        let n = db.shape[0], d = q.count
        let cands = (0..<n).filter { label == nil || labels[$0] == label }
        let dist = cands.map { i -> (Double, Int) in
            var s = 0.0
            for j in 0..<d { let e = Double(db[i * d + j]) - Double(q[j]); s += e * e }
            return (s, i)
        }
        return dist.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.prefix(k).map(\.1)
    }

    @Test(arguments: [(500, 7, 3), (5000, 16, 5), (3000, 130, 1)])
    func matchesBruteForce(args: (Int, Int, Int)) {
        let (n, d, k) = args
        let db = randomTensor([n, d], seed: 31)
        var rng = NoiseGenerator(seed: 5)
        let labels = (0..<n).map { _ in Int(rng.nextUInt64() % 4) }
        let index = NeighbourIndex(vectors: db, labels: labels)
        let queries = randomTensor([6, d], seed: 32)
        let restrict: [Int?] = [nil, 0, 1, nil, 3, 2]
        let got = index.search(queries, k: k, label: restrict)
        for i in 0..<6 {
            let q = Array(queries.array[(i * d)..<((i + 1) * d)])
            #expect(got[i].map(\.index) == bruteForce(db, labels, q, k: k, label: restrict[i]))
            #expect(got[i].allSatisfy { restrict[i] == nil || $0.label == restrict[i] })
            #expect(zip(got[i], got[i].dropFirst()).allSatisfy { $0.distance <= $1.distance })
        }
        // A query equal to a database row finds it at distance ~0.
        let row = db.slice(first: 42, count: 1)
        let me = index.search(row, k: 1)[0][0]
        #expect(me.index == 42 && me.distance < 1e-2 && me.label == labels[42])
    }

    @Test func unknownLabelFindsNothingAndSmallDatabases() {
        let db = Tensor(shape: [3, 2], values: [0, 0, 1, 0, 5, 5])
        let index = NeighbourIndex(vectors: db, labels: [0, 0, 1])
        #expect(index.search(Tensor(shape: [1, 2], values: [0, 0]), k: 2, label: [7])[0].isEmpty)
        let all = index.search(Tensor(shape: [1, 2], values: [0.9, 0]), k: 10)[0]
        #expect(all.map(\.index) == [1, 0, 2])
        #expect(abs(all[0].distance - 0.1) < 1e-5)
    }
}
