import Foundation
import Gate
import Testing
import Envelope
import SodiumKit
import Spool
import Wire
@testable import Link

/// Envelopes a misbehaving (or outdated) neighbour offers that the receiver's gate must refuse
/// before asking for any body byte: each refused with its reason, quarantined at the sender, and
/// nothing else held up.
@Suite(.serialized) struct LinkGateTests {
    /// Seals an envelope as `origin` with `signer`'s key and puts it straight into `into`'s queue
    /// for `to`, bypassing the sender's own gate (as a faulty or hostile node would).
    func craft(_ net: LinkTestNet, into sender: NodeID, to: NodeID, origin: NodeID, signer: SigningKeyPair, size: Int,
               createdAt: Int64, lifetime: Int64, chunkSize: Int = 65_536) throws -> EnvelopeID {
        let params = SealParameters(kind: .document, urgency: .thuong, origin: origin,
                                    recipients: [SealRecipient(id: to, encryptionKey: net.boxes[to]!.publicKey)],
                                    createdAt: createdAt, expiresAt: createdAt + lifetime, chunkSize: chunkSize)
        let body = MemorySink()
        let sealed = try EnvelopeSealer.seal(params, signer: signer, payloadSize: UInt64(size), source: MemorySource(Sodium.randomBytes(size)), body: body)
        let incoming = IncomingEnvelope(verifier: try ChunkVerifier(header: sealed.header, table: sealed.table), chunks: sealed.header.layout.split(body: body.bytes),
                                        from: "local", custody: Custody(nextHops: [to: [to]], deliverLocally: false))
        // Queued now (or when it was created, if that is earlier), so that it is offered at once.
        _ = try net.spool(sender).accept(incoming, now: min(createdAt, Int64(Date().timeIntervalSince1970 * 1000)))
        return sealed.id
    }

    /// `sealedHere` skips only the signature, and only on this node's own headers.
    @Test func onlyThisNodesOwnFreshHeadersSkipTheSignatureCheck() throws {
        let net = try LinkTestNet()
        defer { net.shutdown() }
        let district = LinkTestNet.district, hub = LinkTestNet.hub
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        func header(origin: NodeID, signer: SigningKeyPair, createdAt: Int64) throws -> EnvelopeHeader {
            let params = SealParameters(kind: .document, urgency: .thuong, origin: origin,
                                        recipients: [SealRecipient(id: hub, encryptionKey: net.boxes[hub]!.publicKey)],
                                        createdAt: createdAt, expiresAt: createdAt + 3_600_000)
            return try EnvelopeSealer.seal(params, signer: signer, payloadSize: 100, source: MemorySource(Sodium.randomBytes(100)), body: MemorySink()).header
        }
        func reason(_ body: () throws -> Void) -> RefusalReason? {
            do { try body(); return nil } catch let e as IngressError { return e.reason } catch { return nil }
        }
        let gate = CustodyGate(me: district, topology: net.topology, spool: try net.spool(district))
        let forgedAsMe = try header(origin: district, signer: SigningKeyPair(), createdAt: now)
        let forgedAsHub = try header(origin: hub, signer: SigningKeyPair(), createdAt: now)
        #expect(reason { try gate.check(forgedAsMe, now: now) } == .badSignature)  // from a peer or a file
        #expect(reason { try gate.check(forgedAsHub, now: now, sealedHere: true) } == .badSignature)  // not this node's
        #expect(reason { try gate.check(try header(origin: district, signer: net.signing[district]!, createdAt: now), now: now, sealedHere: true) } == nil)
        // What `sealedHere` means: the caller vouches for its own signature, which is not checked.
        #expect(reason { try gate.check(forgedAsMe, now: now, sealedHere: true) } == nil)
        #expect(reason { try gate.check(try header(origin: district, signer: net.signing[district]!, createdAt: now - 7_200_000), now: now, sealedHere: true) } == .expired)
    }

    @Test func forgedUnknownExpiredAndOversizedEnvelopesAreRefusedWithTheirReasons() async throws {
        let net = try LinkTestNet()
        defer { net.shutdown() }
        let district = LinkTestNet.district, hub = LinkTestNet.hub
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let cases: [(String, EnvelopeID)] = [
            ("badSignature", try craft(net, into: district, to: hub, origin: district, signer: SigningKeyPair(), size: 2000, createdAt: now, lifetime: 3_600_000)),
            ("unknownOrigin", try craft(net, into: district, to: hub, origin: node("000.09.09.H27"), signer: SigningKeyPair(), size: 2000, createdAt: now, lifetime: 3_600_000)),
            ("expired", try craft(net, into: district, to: hub, origin: district, signer: net.signing[district]!, size: 2000, createdAt: now - 7_200_000, lifetime: 3_600_000)),
            ("tooLarge", try craft(net, into: district, to: hub, origin: district, signer: net.signing[district]!, size: 2 << 20, createdAt: now, lifetime: 3_600_000)),
            // Created an hour in the hub's future, or living beyond the network's 90 days.
            ("badClock", try craft(net, into: district, to: hub, origin: district, signer: net.signing[district]!, size: 2000,
                                   createdAt: now + 3_600_000, lifetime: 3_600_000)),
            ("badClock", try craft(net, into: district, to: hub, origin: district, signer: net.signing[district]!, size: 2000,
                                   createdAt: now, lifetime: 91 * 86_400_000)),
            // 8 KiB in 1 KiB chunks: a small body declaring a large chunk table.
            ("malformed", try craft(net, into: district, to: hub, origin: district, signer: net.signing[district]!, size: 8192,
                                    createdAt: now, lifetime: 3_600_000, chunkSize: 1024)),
        ]
        let good = try net.send(from: district, to: [hub], size: 2000)
        // The hub accepts payloads up to 1 MiB.
        let (port, listener) = try await net.listen(hub, limits: EnvelopeLimits(maxPayloadBytes: 1 << 20))
        let session = try net.dial(district, to: hub, port: port)
        let dspool = try net.spool(district), hspool = try net.spool(hub)
        #expect(try await net.waitUntil { try hspool.inboxEntry(good) != nil })
        // The expired one leaves by the sender's own expiry or by the peer's refusal; an unknown
        // origin is "not yet" (the hub's topology may be older than the sender's): deferred and
        // retried; the others are refused for good and set aside.
        #expect(try await net.waitUntil { try dspool.queueEntries(state: .quarantined).count >= 5 })
        let quarantined = Dictionary(uniqueKeysWithValues: try dspool.queueEntries(state: .quarantined).map { ($0.envelopeID, $0.lastError ?? "") })
        for (reason, id) in cases where quarantined[id] != nil {
            #expect(quarantined[id]?.contains(reason) == true, "\(reason): \(quarantined[id] ?? "")")
        }
        for (reason, id) in cases where reason != "expired" && reason != "unknownOrigin" {
            #expect(quarantined[id] != nil, "\(reason) was not refused")
        }
        let unknownOrigin = cases.first { $0.0 == "unknownOrigin" }!.1
        #expect(try await net.waitUntil {
            try dspool.queueEntries(state: .deferred).contains {
                $0.envelopeID == unknownOrigin && ($0.lastError ?? "").contains("unknownOrigin")
                    && ($0.lastError ?? "").contains("temporary")
            }
        })
        // Nothing refused was stored at the hub.
        for (_, id) in cases { #expect(try hspool.storedEnvelope(id) == nil && hspool.inboxEntry(id) == nil) }
        #expect(net.logs.contains("refused an envelope"))
        session.cancel()
        listener.cancel()
    }
}
