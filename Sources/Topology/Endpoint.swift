/// A network address where a node accepts its children's connections: `host:port`.
///
/// The host is a DNS name, an IPv4 address, or an IPv6 address written in brackets
/// (`[fd00::1]:7101`). Only the syntax is checked: nothing is resolved here, since the
/// Topology module never touches the network.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    /// The host, without brackets for IPv6.
    public let host: String
    /// 1…65535.
    public let port: Int

    /// Builds an endpoint, checking the host syntax and the port range.
    public init(host: String, port: Int) throws {
        guard (1...65_535).contains(port) else {
            throw TopologyError(.badEndpoint, "port \(port) is out of range 1…65535")
        }
        let bytes = Array(host.utf8)
        if bytes.contains(UInt8(ascii: ":")) {
            guard Self.isIPv6(bytes) else {
                throw TopologyError(.badEndpoint, "'\(Self.printable(host))' is not a valid IPv6 address")
            }
        } else {
            guard Self.isHostName(bytes) else {
                throw TopologyError(
                    .badEndpoint,
                    """
                    '\(Self.printable(host))' is not a valid host name or IPv4 address (ASCII letters, digits, \
                    '-' and '.', at most 253 characters)
                    """
                )
            }
        }
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[ipv6]:port`. The port is decimal without leading zeros, so that
    /// `description` gives back the text that was parsed.
    public static func parse(_ text: String) throws -> Endpoint {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw TopologyError(.badEndpoint, "'\(printable(text))' is not [ipv6]:port")
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
            guard hostPart.contains(":") else {
                throw TopologyError(.badEndpoint, "'\(printable(text))': only IPv6 addresses go in brackets")
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw TopologyError(
                    .badEndpoint, "'\(printable(text))' has no port; write host:port, e.g. 10.27.0.1:7101")
            }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            guard !hostPart.contains(":") else {
                throw TopologyError(
                    .badEndpoint, "'\(printable(text))': write an IPv6 address in brackets, e.g. [fd00::1]:7101")
            }
        }
        let digits = Array(portPart.utf8)
        guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            digits.first != UInt8(ascii: "0"), let port = Int(portPart)
        else {
            throw TopologyError(.badEndpoint, "'\(printable(text))': the port must be a number 1…65535")
        }
        return try Endpoint(host: String(hostPart), port: port)
    }

    /// `host:port`, or `[host]:port` for IPv6; `parse(description)` gives back an equal value.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    private static func isHostName(_ b: [UInt8]) -> Bool {
        guard !b.isEmpty, b.count <= 253 else { return false }
        let labels = b.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63
                && label.first != UInt8(ascii: "-") && label.last != UInt8(ascii: "-")
                && label.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") }
        }
    }

    // Loose on purpose: hex groups, colons and an optional dotted IPv4 tail. Whether the address
    // is routable is the network's business, not the file's.
    private static func isIPv6(_ b: [UInt8]) -> Bool {
        guard b.count >= 2, b.count <= 45 else { return false }
        return b.allSatisfy { c in
            c == UInt8(ascii: ":") || c == UInt8(ascii: ".") || (c >= 0x30 && c <= 0x39)
                || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f"))
                || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "F"))
        }
    }

    private static func isAlnum(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z"))
            || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
    }

    // Error messages quote untrusted text: keep them short and free of control characters.
    static func printable(_ s: some StringProtocol) -> String {
        String(s.prefix(80).unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "?" : Character($0) })
    }
}
