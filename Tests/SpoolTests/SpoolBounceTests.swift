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

    /// The province had a district's broadcast and passed it on; after a route change here the
    /// district moves its copy for another commune up: taken again. The same offer before any
    /// route change is a resend after a lost ACK, answered "duplicate" as ever.
    @Test func anEnvelopeHandedHereAgainAfterARouteChangeIsTakenAgainAndOnlyThen() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let e = try f.envelope(recipients: [c11, c21])
        let id = e.0.header.id
        let first = try f.incoming(e, from: d1.rawValue, hops: [d2.rawValue: [c21]])
        #expect(try spool.accept(first, now: SpoolFixture.now) == .accepted)
        #expect(try spool.claim(peer: d2, now: SpoolFixture.now, limit: 5).count == 1)
        #expect(try spool.ack(id, peer: d2, now: SpoolFixture.now + 1))
        let again = try f.incoming(e, from: d1.rawValue, hops: [c11: [c11], d2.rawValue: [c21]])
        #expect(try spool.accept(again, now: SpoolFixture.now + 2) == .duplicate, "no route change yet")
        try spool.recordRouteChange("topology version 2 (was 1) from \(d1)", actor: d1.rawValue, now: SpoolFixture.now + 3)
        #expect(try spool.accept(again, now: SpoolFixture.now + 4) == .accepted)
        let entries = try spool.queueEntries(state: .ready).filter { $0.envelopeID == id }
        #expect(Set(entries.map(\.peer.rawValue)) == [c11, d2.rawValue])
        // A neighbour that neither handed it here nor had it from here still gets "duplicate".
        let stranger = try f.incoming(e, from: "000.03.00.H27", hops: [c11: [c11]])
        #expect(try spool.accept(stranger, now: SpoolFixture.now + 5) == .duplicate)
    }
}

