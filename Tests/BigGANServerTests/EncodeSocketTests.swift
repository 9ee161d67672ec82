import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANMHD
@testable import BigGANServer

/// `POST /v1/encode` over a real socket: a valid PNG, an image body over the limit (the adapter
/// stops buffering it, the route answers 413) and a decompression-bomb header.
@Suite(.serialized) struct EncodeSocketTests {
    @Test func oversizeAndBombBodiesOverLoopback() throws {
        var limits = Limits()
        limits.maxImageBytes = 2 << 20
        let s = try TestServer(bigBiGAN: true, limits: limits)
        let router = s.router
        let server = MHDServer(maxBodyBytes: limits.maxAnyBodyBytes) { router.handle($0) }
        try server.start(host: "127.0.0.1", port: 0)
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.port)/v1/encode?model=bigbigan&seed=2"
        let png = ["Content-Type": "image/png"]
        let (ok, headers, body) = try fetch(url, method: "POST", body: Data(EncodeRouteTests.grey32), headers: png)
        #expect(ok == 200 && headers["content-type"] == "application/json")
        #expect(Array(body) == EncodeRouteTests.post(s, "/v1/encode?model=bigbigan&seed=2", EncodeRouteTests.grey32).body)
        let (big, _, bigBody) = try fetch(url, method: "POST", body: Data(count: 3 << 20), headers: png)
        #expect(big == 413 && String(decoding: bigBody, as: UTF8.self).contains("body_too_large"))
        let bomb = RawPNG.header(width: 60_000, height: 60_000, tail: RawPNG.chunk("IDAT", [0x78, 0x01]))
        let (bs, _, bb) = try fetch(url, method: "POST", body: Data(bomb), headers: png)
        #expect(bs == 413 && String(decoding: bb, as: UTF8.self).contains("image_too_large"))
        // The server still answers.
        #expect(try fetch(url, method: "POST", body: Data(EncodeRouteTests.grey32), headers: png).0 == 200)
    }
}
