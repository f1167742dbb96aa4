import Testing
@testable import Topology

@Suite("Endpoints")
struct EndpointTests {
    @Test("valid endpoints parse and print back", arguments: [
        "127.0.0.1:7101", "hub.hoabinh.gov.vn:443", "localhost:1", "[fd00::1]:7101", "[::1]:65535", "10.27.0.5:8080",
    ])
    func valid(_ text: String) throws {
        let e = try Endpoint.parse(text)
        #expect(e.description == text)
        #expect(try Endpoint.parse(e.description) == e)
    }

    @Test("host and port are split; IPv6 hosts lose their brackets")
    func parts() throws {
        let e = try Endpoint.parse("[fd00::1]:7101")
        #expect(e.host == "fd00::1" && e.port == 7101)
        let h = try Endpoint(host: "10.0.0.1", port: 7100)
        #expect(h.description == "10.0.0.1:7100")
    }

    @Test("invalid endpoints are TOPO-BAD-ENDPOINT", arguments: [
        "", "localhost", "host:", ":7101", "host:0", "host:65536", "host:07101", "host:+1", "host:71a",
        "fd00::1:7101", "[fd00::1]7101", "[host]:7101", "bad_host:7101", "-host:1", "a..b:1", "hòa-bình:7101",
        "host :1", "1.2.3.4:1:2",
    ])
    func invalid(_ text: String) {
        expectTopologyError(.badEndpoint) { _ = try Endpoint.parse(text) }
    }
}
