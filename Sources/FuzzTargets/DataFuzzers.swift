import Control
import Envelope
import SodiumKit
import Topology

/// `envelope`: the input is an envelope file. Header and table are parsed with the default
/// limits; a header the fixture's district signed is opened by the hub, its payload decoded.
/// Invariants: a parsed header re-encodes to the bytes it came from; the relay's keyless chunk
/// check accepts every chunk of a body the recipient opened; no more plaintext than signed.
enum EnvelopeFuzzer {
    static func run(_ data: [UInt8]) throws(FuzzFinding) {
        let source = MemorySource(data)
        guard let header = try? EnvelopeFile.readHeader(from: source) else { return }
        guard Array(data.prefix(header.encoded.count)) == header.encoded else {
            throw FuzzFinding(.envelope, "a parsed header is not the bytes it was parsed from")
        }
        guard let table = try? EnvelopeFile.readTable(from: source, header: header),
            let key = FuzzFixture.originKey(header.origin),
            let opener = try? EnvelopeOpener(
                header: header, table: table, originKey: key, recipient: FuzzFixture.hub,
                keys: FuzzFixture.hubBox, now: FuzzFixture.now)
        else { return }
        let payload = MemoryPayload()
        let decoder = PayloadDecoder(receiver: payload)
        do {
            try opener.open(body: source, into: decoder)
            try decoder.finish()
        } catch {
            return  // refused with a named error: that is the job
        }
        let plaintext = payload.metadataBytes.count + payload.files.reduce(0) { $0 + $1.bytes.count }
        guard UInt64(plaintext) <= header.layout.payloadSize else {
            throw FuzzFinding(
                .envelope, "\(plaintext) bytes of plaintext from a \(header.layout.payloadSize)-byte payload")
        }
        guard let verifier = try? ChunkVerifier(header: header, table: table) else {
            throw FuzzFinding(.envelope, "the recipient opened an envelope whose chunk table a relay refuses")
        }
        var offset = header.encoded.count + table.bytes.count
        for index in 0..<header.layout.chunkCount {
            let length = header.layout.ciphertextLength(of: index)
            guard offset + length <= data.count,
                (try? verifier.verify(index: index, ciphertext: Array(data[offset..<(offset + length)]))) != nil
            else {
                throw FuzzFinding(.envelope, "the recipient opened chunk \(index), which a relay refuses")
            }
            offset += length
        }
    }
}

/// `topology`: the input is a topology file. Invariants for a file the loader accepts: it
/// encodes and loads again to the same nodes; every path runs between neighbours from one end to
/// the other; routing from the root to every node reaches each exactly once.
enum TopologyFuzzer {
    static func run(_ data: [UInt8]) throws(FuzzFinding) {
        guard let topology = try? Topology.decode(data) else { return }
        let ids = topology.nodes.map(\.id)
        guard let encoded = try? topology.encoded(), let again = try? Topology.decode(encoded),
            again.nodes.map(\.id) == ids
        else {
            throw FuzzFinding(.topology, "an accepted topology does not load again from its own encoding")
        }
        let root = topology.root.id
        guard let plan = try? topology.nextHops(from: root, recipients: ids), plan.recipientCount == Set(ids).count
        else {
            throw FuzzFinding(.topology, "routing from the root does not reach every node exactly once")
        }
        for id in ids.prefix(32) {
            guard let path = try? topology.path(from: id, to: root), path.first == id, path.last == root,
                zip(path, path.dropFirst()).allSatisfy({ topology.areNeighbours($0, $1) })
            else {
                throw FuzzFinding(.topology, "the path from \(id) to the root is not a chain of neighbours")
            }
        }
    }
}

/// `control`: the input is what a local client writes to the control socket. Invariants: no
/// line over the limit is buffered; every request the daemon accepts encodes and parses back to
/// itself. Like `ControlService`, only the first complete line is decoded (the daemon answers
/// one request per connection and closes it); the framer still sees every byte.
enum ControlFuzzer {
    static func run(_ data: [UInt8]) throws(FuzzFinding) {
        var framer = LineFramer(maxLine: ControlLimits.maxRequestBytes)
        let lines: [[UInt8]]
        do { lines = try framer.feed(data) } catch { return }
        guard framer.pending <= ControlLimits.maxRequestBytes,
            lines.allSatisfy({ $0.count <= ControlLimits.maxRequestBytes })
        else {
            throw FuzzFinding(.control, "a control line over \(ControlLimits.maxRequestBytes) bytes was buffered")
        }
        for line in lines.prefix(1) {
            guard let request = try? ControlCodec.decodeRequest(line) else { continue }
            guard let encoded = try? ControlCodec.encode(request),
                (try? ControlCodec.decodeRequest(Array(encoded.dropLast()))) == request
            else {
                throw FuzzFinding(.control, "an accepted request does not parse back to itself from its own encoding")
            }
        }
    }
}
