import Testing
import Envelope
import SodiumKit
import Spool
@testable import Link

/// What a peer's offers in progress may make a session hold: each bound refuses the next offer
/// for now, and everything is given back as offers end.
@Suite struct InboundOffersTests {
    static let signer = SigningKeyPair(), box = BoxKeyPair()

    static func verifier(size: Int, chunkSize: Int = 65_536, byte: UInt8 = 1) throws -> ChunkVerifier {
        let params = SealParameters(kind: .document, urgency: .thuong, origin: node("000.01.00.H27"),
                                    recipients: [SealRecipient(id: node("000.00.00.H27"), encryptionKey: box.publicKey)],
                                    createdAt: 1_764_000_000_000 + Int64(byte), expiresAt: 1_764_086_400_000,
                                    chunkSize: chunkSize)
        let sealed = try EnvelopeSealer.seal(params, signer: signer, payloadSize: UInt64(size),
                                             source: MemorySource([UInt8](repeating: byte, count: size)), body: DiscardSink())
        return try ChunkVerifier(header: sealed.header, table: sealed.table)
    }

    func entry(_ v: ChunkVerifier, small: Bool) -> InboundOffers.Entry {
        .init(verifier: v, custody: Custody(nextHops: [:], deliverLocally: true), small: small ? [] : nil)
    }

    @Test func eachBoundRefusesTheNextOfferAndEndingOffersGivesRoomBack() throws {
        var limits = InboundOffers.Limits()
        limits.maxOffers = 3
        limits.maxSmallBytes = 150_000
        limits.maxDeclaredBytes = 1_000_000
        limits.maxTableBytes = 30 * 32
        var offers = InboundOffers(limits: limits)
        let a = try Self.verifier(size: 60_000, byte: 1), b = try Self.verifier(size: 60_000, byte: 2)
        let c = try Self.verifier(size: 60_000, byte: 3)
        #expect(offers.refusal(for: a.header, small: true) == nil)
        offers[a.header.id] = entry(a, small: true)
        offers[b.header.id] = entry(b, small: true)
        #expect(offers.smallBytes == 120_000)
        #expect(offers.refusal(for: c.header, small: true)?.contains("small envelopes") == true)
        // A large one declares its bytes and holds its table (ten chunks here).
        let big = try Self.verifier(size: 600_000, byte: 4)
        #expect(offers.refusal(for: big.header, small: false) == nil)
        offers[big.header.id] = entry(big, small: false)
        #expect(offers.declaredBytes == 600_000 && offers.tableBytes == 12 * 32)  // one entry each for the small ones
        #expect(offers.refusal(for: c.header, small: false)?.contains("in progress") == true)  // 3 offers
        offers[a.header.id] = nil
        let big2 = try Self.verifier(size: 600_000, byte: 5)
        #expect(offers.refusal(for: big2.header, small: false)?.contains("large envelopes") == true)
        let many = try Self.verifier(size: 20 * 1024, chunkSize: 1024, byte: 6)  // a 20-entry table
        #expect(offers.refusal(for: many.header, small: false)?.contains("chunk tables") == true)
        offers[b.header.id] = nil
        offers[big.header.id] = nil
        #expect(offers.count == 0 && offers.smallBytes == 0 && offers.declaredBytes == 0 && offers.tableBytes == 0)
        #expect(offers.refusal(for: big2.header, small: false) == nil)
    }
}
