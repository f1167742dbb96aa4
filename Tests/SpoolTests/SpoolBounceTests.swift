import Envelope
import Foundation
import Testing
@testable import Spool

/// An envelope a neighbour re-routes back after a topology change (`admitBounce`): taken into
/// custody again, never answered "duplicate" — even while this node still holds it for others.
@Suite struct SpoolBounceTests {
    let d1 = node("000.01.00.H27"), d2 = node("000.02.00.H27")
    let c11 = "000.01.01.H27", c21 = "000.02.01.H27"

    @Test func aBounceWhileTheBodyIsStillHeldForAnotherHopMergesIntoItsEntries() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let e = try f.envelope(recipients: [c11, c21])
        let id = e.0.header.id
        // The province holds it for both districts; district 1 takes it, district 2 is offline.
        let hops = [d1.rawValue: [c11], d2.rawValue: [c21]]
        #expect(try spool.accept(try f.incoming(e, from: "local", hops: hops), now: SpoolFixture.now) == .accepted)
        #expect(try spool.claim(peer: d1, now: SpoolFixture.now, limit: 5).count == 1)
        #expect(try spool.ack(id, peer: d1, now: SpoolFixture.now + 1))
        // District 1 is retired: it sends its copy back up, for commune 01.01 now under the province.
        let back = try f.incoming(e, from: d1.rawValue, hops: [c11: [c11]])
        #expect(try spool.accept(back, now: SpoolFixture.now + 2) == .accepted)
        let entries = try spool.queueEntries(state: .ready).filter { $0.envelopeID == id }
        #expect(Set(entries.map(\.peer.rawValue)) == [d2.rawValue, c11])
        // Offered again by the same neighbour while it is held: still merged, one entry per hop.
        #expect(try spool.accept(back, now: SpoolFixture.now + 3) == .accepted)
        #expect(try spool.queueEntries(state: .ready).filter { $0.envelopeID == id }.count == 2)
        // A neighbour that never had it from here still gets "duplicate".
        let stranger = try f.incoming(e, from: d2.rawValue, hops: [c11: [c11]])
        #expect(try spool.accept(stranger, now: SpoolFixture.now + 4) == .duplicate)
    }

    @Test func aBounceOfALargeEnvelopeWhoseBodyIsHeldResumesAtItsEndAndCompletes() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let e = try f.envelope(size: 200_000, recipients: [c11, c21])
        let id = e.0.header.id
        let hops = [d1.rawValue: [c11], d2.rawValue: [c21]]
        #expect(try spool.accept(try f.incoming(e, from: "local", hops: hops), now: SpoolFixture.now) == .accepted)
        _ = try spool.claim(peer: d1, now: SpoolFixture.now, limit: 5)
        #expect(try spool.ack(id, peer: d1, now: SpoolFixture.now + 1))
        // Offered back chunk by chunk: the spool already has every chunk.
        #expect(try spool.begin(e.0, from: d1.rawValue, now: SpoolFixture.now + 2) == .resume(from: e.1.count))
        let custody = Custody(nextHops: [node(c11): [node(c11)]], deliverLocally: false)
        #expect(try spool.complete(id, custody: custody, now: SpoolFixture.now + 3) == .accepted)
        let entries = try spool.queueEntries(state: .ready).filter { $0.envelopeID == id }
        #expect(Set(entries.map(\.peer.rawValue)) == [d2.rawValue, c11])
    }

    /// The province had a district's broadcast and passed it on; after the change the district
    /// moves its copy for another commune up: where it would go from here now includes a next hop
    /// the province never handed it to, so it is taken again. The same offer for the hops it
    /// already served (a resend after a lost ACK) is answered "duplicate" as ever.
    @Test func anEnvelopeThatWouldNowGoToANewNextHopIsTakenAgainAndOnlyThen() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let e = try f.envelope(recipients: [c11, c21])
        let id = e.0.header.id
        let first = try f.incoming(e, from: d1.rawValue, hops: [d2.rawValue: [c21]])
        #expect(try spool.accept(first, now: SpoolFixture.now) == .accepted)
        #expect(try spool.claim(peer: d2, now: SpoolFixture.now, limit: 5).count == 1)
        #expect(try spool.ack(id, peer: d2, now: SpoolFixture.now + 1))
        #expect(try spool.accept(first, now: SpoolFixture.now + 2) == .duplicate, "nothing new: a resend")
        let moved = try f.incoming(e, from: d1.rawValue, hops: [c11: [c11], d2.rawValue: [c21]])
        #expect(try spool.accept(moved, now: SpoolFixture.now + 3) == .accepted)
        let entries = try spool.queueEntries(state: .ready).filter { $0.envelopeID == id }
        #expect(Set(entries.map(\.peer.rawValue)) == [c11, d2.rawValue])
        // Offered once more while held for both: nothing new.
        #expect(try spool.accept(moved, now: SpoolFixture.now + 4) == .duplicate)
        // A neighbour that neither handed it here nor had it from here, for a hop it is held for.
        let stranger = try f.incoming(e, from: "000.03.00.H27", hops: [c11: [c11]])
        #expect(try spool.accept(stranger, now: SpoolFixture.now + 5) == .duplicate)
    }

    @Test func aLargeEnvelopeOfferedChunkByChunkForANewNextHopIsTakenAgain() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let e = try f.envelope(size: 200_000, recipients: [c11, c21])
        let id = e.0.header.id
        let first = try f.incoming(e, from: d1.rawValue, hops: [d2.rawValue: [c21]])
        #expect(try spool.accept(first, now: SpoolFixture.now) == .accepted)
        _ = try spool.claim(peer: d2, now: SpoolFixture.now, limit: 5)
        #expect(try spool.ack(id, peer: d2, now: SpoolFixture.now + 1))
        let same = Custody(nextHops: [d2: [node(c21)]], deliverLocally: false)
        #expect(try spool.begin(e.0, from: d1.rawValue, now: SpoolFixture.now + 2, custody: same) == .duplicate)
        let moved = Custody(nextHops: [node(c11): [node(c11)], d2: [node(c21)]], deliverLocally: false)
        #expect(try spool.begin(e.0, from: d1.rawValue, now: SpoolFixture.now + 3, custody: moved) == .resume(from: 0))
    }
}
