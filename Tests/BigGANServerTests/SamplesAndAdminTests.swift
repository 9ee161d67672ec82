import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANServer

@Suite struct SamplesRouteTests {
    @Test func seedsAndClasses() throws {
        let s = try TestServer()
        let r = s.post("/v1/samples", json: #"{"classes":["cat",2],"seeds":[5,6],"truncation":0.7}"#)
        #expect(r.status == 200, "\(r.errorMessage)")
        let images = try #require(r.jsonObject["images"] as? [[String: Any]])
        #expect(images.count == 2)
        #expect(images.map { $0["seed"] as? Int } == [5, 6])
        #expect(images.map { $0["class_name"] as? String } == ["cat", "bird"])
        let png = try #require(Data(base64Encoded: images[0]["png_base64"] as? String ?? ""))
        // Same as GET /v1/sample for that class and seed.
        #expect(Array(png) == s.get("/v1/sample?class=0&seed=5&truncation=0.7").body)
    }

    @Test func explicitLatents() throws {
        let s = try TestServer()
        let z = "[0.1,0.2,0.3,0.4,-0.1,-0.2,-0.3,-0.4]"
        let r = s.post("/v1/samples", json: #"{"class":1,"z":[\#(z),\#(z)]}"#)
        #expect(r.status == 200)
        let images = try #require(r.jsonObject["images"] as? [[String: Any]])
        #expect(images.count == 2 && images[0]["png_base64"] as? String == images[1]["png_base64"] as? String)
        #expect(images[0]["seed"] is NSNull)
    }

    @Test func seedAndCount() throws {
        let s = try TestServer()
        let images = try #require(s.post("/v1/samples", json: #"{"class":0,"seed":10,"n":3}"#).jsonObject["images"] as? [[String: Any]])
        #expect(images.map { $0["seed"] as? Int } == [10, 11, 12])
    }

    @Test(arguments: [
        (#"{"class":1,"z":[[1,2,3]]}"#, 400, "'z[0]' has 3 entries; this model needs 8"),
        (#"{"class":1"#, 400, "malformed JSON"),
        (#"{"class":null}"#, 400, "'class' is required"),
        ("", 400, "the request body is empty"),
        (#"{"class":[1]}"#, 400, "must be a class index or name"),
        (#"{"classes":[0,1],"seeds":[1,2,3]}"#, 400, "'classes' has 2 entries for 3 images; give one class per image"),
        (#"{"class":3,"seed":1,"seeds":[1]}"#, 400, "give one of 'z', 'seeds' or 'seed' (with 'n'); this body has 'seeds' and 'seed'"),
        (#"{"class":1,"seeds":[1,2],"n":5}"#, 400, "this body has 'seeds' and 'n'"),
        (#"{"classes":[],"seed":1}"#, 400, "'classes' is empty"),
        (#"{"class":1,"z":[[0,0,0,0,0,0,0,0]],"seed":1}"#, 400, "this body has 'z' and 'seed'"),
        (#"{"class":1,"classes":[1]}"#, 400, "give 'class' or 'classes', not both"),
        (#"{"class":0,"n":0}"#, 400, "'n' must be an integer from 1 to 64, got 0"),
        (#"{"class":0,"n":65}"#, 400, "'n' must be an integer from 1 to 64, got 65"),
        (#"{"class":0,"n":2.5}"#, 400, "'n' must be an integer from 1 to 64, got 2.5"),
        (#"{"class":0,"truncation":-2}"#, 400, "'truncation' must be a positive number or \"none\", got -2"),
        (#"{"class":0,"truncation":"big"}"#, 400, "'truncation' must be a positive number or \"none\", got 'big'"),
        (#"{"class":0,"truncation":0.001}"#, 400, "'truncation' must be at least 0.01, got 0.001"),
        (#"{"class":"zebra"}"#, 400, "unknown class name 'zebra'"),
        (#"{"class":7}"#, 400, "class 7 is out of range"),
        (#"{"model":"nope"}"#, 404, "unknown model 'nope'"),
        (#"{"class":0,"seeds":[-1]}"#, 400, "'seeds[0]' must be an integer from 0 to 18446744073709551615, got -1"),
        (#"{"class":0,"seed":-1}"#, 400, "'seed' must be an integer from 0 to 18446744073709551615, got -1"),
        (#"{"class":0,"seed":7.5}"#, 400, "'seed' must be an integer from 0 to 18446744073709551615, got 7.5"),
        (#"{"class":0,"seed":18446744073709551616}"#, 400, "'seed' must be an integer from 0 to 18446744073709551615, got 1.8446744073709552e+19"),
        (#"{"class":0,"seeds":[1,"two"]}"#, 400, "'seeds[1]' must be a number"),
        (#"{"class":1,"z":[0.1,0.2]}"#, 400, "'z[0]' must be an array"),
        (#"{"classes":"Coat"}"#, 400, "'classes' must be an array"),
        (#"{"class":[1]}"#, 400, "'class' must be a class index or name"),
        ("null", 400, "the body must be a JSON object, not null"),
        (#"{"class":1,"z":[[1,2,3,4,5,6,7,1e39]]}"#, 400, "'z[0][7]' must be a number from -1000.0 to 1000.0, got 1e+39"),
        (#"{"class":1,"z":[[1,2,3,4,5,6,7,1e300]]}"#, 400, "'z[0][7]' must be a number from -1000.0 to 1000.0"),
        (#"{"class":0,"truncaton":0.5}"#, 400, "unknown field 'truncaton'"),
        (#"[1,2]"#, 400, "the body must be a JSON object"),
        (#"{"seed":1}"#, 400, "'class' is required"),
        (#"{"class":1,"class":7}"#, 400, "duplicate key 'class'"),
        (#"{"class":1,"seeds":[1,2],"n":1,"seeds":[3]}"#, 400, "duplicate key 'seeds'"),
        (#"{"class":1,"z":[[1,2,3,4,5,6,7,8]],"style":{"a":1,"a":2}}"#, 400, "duplicate key 'style.a'"),
        (#"{"class":1,"x":[{"k":1},{"k":2,"k":3}]}"#, 400, "duplicate key 'x[1].k'"),
    ])
    func badBodies(body: String, status: Int, message: String) throws {
        let s = try TestServer()
        let r = s.post("/v1/samples", json: body)
        #expect(r.status == status, "\(r.status) \(r.errorMessage)")
        #expect(r.errorMessage.contains(message), "\(r.errorMessage)")
    }

    /// Equal keys in different objects, and braces, commas, quotes and escapes inside strings,
    /// are not repeats; a key repeated after nested values and a repeat at the end are.
    @Test func duplicateKeyScanner() {
        let distinct = [#"{"a":{"a":1},"b":[{"a":2},{"a":3}]}"#, #"{"a":"}{,\"a\":","b":"a"}"#, #"{"a\"":1,"a":2}"#,
                        #"[{"a":1},{"a":1}]"#, "{}", "[]", #"{"a":[1,2,{"a":[]}],"c":null}"#, #"{"unterminated"#, #"{"a":1}}}"#]
        for body in distinct { #expect(JSONDuplicateKeys.first(in: Array(body.utf8)) == nil, "\(body)") }
        #expect(JSONDuplicateKeys.first(in: Array(#"{"a":{"b":[1,{"c":2}]},"d":0,"a":1}"#.utf8)) == "a")
        #expect(JSONDuplicateKeys.first(in: Array(#"{"a":[{"b":1},{"b":1,"c":{"d":1,"d":2}}]}"#.utf8)) == "a[1].c.d")
        #expect(JSONDuplicateKeys.first(in: Array(#"{ "x" : 1 , "x" : 2 }"#.utf8)) == "x")
    }

    @Test func bodyTooLarge() throws {
        let s = try TestServer()
        let big = "{\"z\":[" + String(repeating: "0.0,", count: 300_000) + "0]}"
        let r = s.post("/v1/samples", json: big)
        #expect(r.status == 413 && r.errorCode == "body_too_large")
        var flagged = HTTPRequest(method: "POST", "/v1/samples", body: Array("{}".utf8))
        flagged.bodyTooLarge = true
        #expect(s.router.handle(flagged).status == 413)
    }
}

@Suite struct AdminAndStaticTests {
    @Test func requestLogNeedsTheToken() throws {
        let s = try TestServer()
        _ = s.get("/v1/sample?class=1&seed=2")
        _ = s.get("/v1/sample?class=9")
        s.context.log?.flush()
        #expect(s.get("/v1/requests").status == 401)
        #expect(s.get("/v1/requests", headers: ["authorization": "Bearer wrong-token"]).status == 401)
        let r = s.get("/v1/requests?limit=10", headers: ["authorization": "Bearer test-token-123"])
        #expect(r.status == 200)
        let rows = try #require(r.jsonObject["requests"] as? [[String: Any]])
        #expect(rows.count == 4)   // newest first: the two 401s, the 400, the 200
        #expect(rows[0]["status"] as? Int == 401)
        #expect(rows[2]["status"] as? Int == 400 && (rows[2]["error"] as? String)?.contains("class 9 is out of range") == true)
        #expect(rows[3]["model"] as? String == "tiny" && rows[3]["query"] as? String == "class=1&seed=2")
        #expect((rows[3]["bytes"] as? Int ?? 0) > 100 && rows[3]["client"] as? String == "127.0.0.1")
        #expect(s.get("/v1/requests?limit=0", headers: ["x-admin-token": "test-token-123"]).status == 400)
    }

    @Test func requestLogDisabledWithoutToken() throws {
        let s = try TestServer(adminToken: nil)
        let r = s.get("/v1/requests")
        #expect(r.status == 404 && r.errorCode == "admin_disabled")
    }

    @Test func staticFilesNeverLeaveThePublicFolder() throws {
        let s = try TestServer()
        let index = s.get("/")
        #expect(index.status == 200 && String(decoding: index.body, as: UTF8.self).contains("gallery"))
        #expect(s.get("/style.css").header("Content-Type")?.hasPrefix("text/css") == true)
        for path in ["/../secret.txt", "/a/../../secret.txt", "/./index.html", "/escape.txt", "/nope.html", "//etc/passwd", "/%2e%2e/secret.txt"] {
            let r = s.router.handle(HTTPRequest(path: path))
            #expect(r.status == 404, "\(path) answered \(r.status)")
            #expect(!String(decoding: r.body, as: UTF8.self).contains("top secret"))
        }
    }
}
