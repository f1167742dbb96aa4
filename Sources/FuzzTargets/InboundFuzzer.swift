import Envelope
import Link
import Spool
import Wire

/// `inbound`: the receiving half of a session (`InboundState`) driven by a peer's messages and by
/// the outcomes of a simulated spool, in any order the input chooses.
///
/// The first byte sets the limits (offers in progress, chunks of a small envelope, chunks per
/// transaction). Each following piece starts with an operation byte: a session message from the
/// peer (OFFER, CHUNK; an offer counts only if its header was signed by a fixture origin, as the
/// custody gate would check), the committer carrying out what is pending (the spool answers
/// `begin` with what it holds, appends and verifies runs of chunks, commits complete envelopes),
/// or one pending spool step failing. Invariants: every action names an envelope that was
/// offered; ACK only for what the spool has committed, STORED never more than it holds, and
/// `complete` only when it holds every chunk; a small envelope is committed only whole and
/// verified; runs are consecutive and within the transaction size; the number in progress stays
/// within the limit.
enum InboundFuzzer {
    /// What the simulated spool holds.
    struct Spool {
        var stored: [EnvelopeID: Int] = [:]
        var committed: Set<EnvelopeID> = []
    }

    static func run(_ data: [UInt8]) throws(FuzzFinding) { _ = try drive(data) }

    /// Runs one input; returns what the simulated spool holds at the end.
    static func drive(_ data: [UInt8]) throws(FuzzFinding) -> Spool {
        var input = FuzzInput(data)
        let setting = input.u8()
        var offerLimits = InboundOffers.Limits()
        offerLimits.maxOffers = 1 + Int(setting & 7)
        let limits = InboundState.Limits(
            offers: offerLimits, smallEnvelopeChunks: 1 + Int(setting >> 3 & 3),
            chunksPerTransaction: 1 + Int(setting >> 5 & 3))
        var state = InboundState(peer: "000.01.00.H27", limits: limits)
        var verifiers: [EnvelopeID: ChunkVerifier] = [:]
        var spool = Spool()
        var pending: [InboundState.Action] = []
        let custody = Custody(nextHops: [:], deliverLocally: true, trackAsOrigin: false)

        func carry(_ actions: [InboundState.Action]) throws(FuzzFinding) {
            for action in actions {
                try check(action, verifiers: verifiers, spool: spool, limits: limits)
                switch action {
                case .commitSmall, .begin, .append, .complete: pending.append(action)
                case .refuse, .sendFrom, .askAgain, .have, .stored, .ack: break
                }
            }
        }

        for piece in input.pieces() {
            guard let op = piece.first else { continue }
            let rest = Array(piece.dropFirst())
            switch op % 3 {
            case 0:
                guard let message = try? SessionMessage.decode(rest) else { continue }
                switch message {
                case .offer(let headerBytes, let tableBytes):
                    guard let header = try? EnvelopeHeader.parse(headerBytes),
                        let key = FuzzFixture.originKey(header.origin),
                        (try? header.verifySignature(originKey: key)) != nil,
                        let table = try? ChunkTable(bytes: tableBytes),
                        let verifier = try? ChunkVerifier(header: header, table: table)
                    else { continue }
                    verifiers[header.id] = verifier
                    try carry(state.offer(verifier, custody: custody))
                case .chunk(let id, let index, let bytes):
                    try carry(state.chunk(id, index, bytes))
                default: continue
                }
            case 1:
                let work = pending
                pending = []
                try carry(commit(work, state: &state, spool: &spool, limits: limits))
            default:
                // The first pending spool step fails (a full disk, say).
                guard let i = pending.firstIndex(where: { if case .commitSmall = $0 { false } else { true } })
                else { continue }
                let id: EnvelopeID
                switch pending.remove(at: i) {
                case .begin(let v, _): id = v.header.id
                case .append(let x, _, _), .complete(let x): id = x
                default: continue
                }
                try carry(state.failed(id, .diskFull, "disk full"))
            }
            guard state.inProgress <= offerLimits.maxOffers else {
                throw FuzzFinding(.inbound, "\(state.inProgress) envelopes in progress, limit \(offerLimits.maxOffers)")
            }
        }
        return spool
    }

    /// The committer and the spool: smalls together, then begin/append steps, then completions.
    static func commit(
        _ work: [InboundState.Action], state: inout InboundState, spool: inout Spool, limits: InboundState.Limits
    ) throws(FuzzFinding) -> [InboundState.Action] {
        var out: [InboundState.Action] = []
        var smalls: [EnvelopeID] = []
        for case .commitSmall(let e) in work {
            guard e.chunks.count == e.header.layout.chunkCount,
                e.chunks.indices.allSatisfy({ (try? e.verifier.verify(index: $0, ciphertext: e.chunks[$0])) != nil })
            else { throw FuzzFinding(.inbound, "a small envelope reached the commit incomplete or unverified") }
            spool.committed.insert(e.header.id)
            smalls.append(e.header.id)
        }
        out += state.smallsCommitted(smalls)
        for step in InboundState.steps(work, chunksPerTransaction: limits.chunksPerTransaction) {
            switch step {
            case .begin(let verifier, let custody):
                let id = verifier.header.id
                let result: BeginResult =
                    spool.committed.contains(id) ? .duplicate : .resume(from: spool.stored[id] ?? 0)
                out += state.began(verifier, custody: custody, result)
            case .append(let id, let first, let chunks):
                guard chunks.count <= max(1, limits.chunksPerTransaction) else {
                    throw FuzzFinding(.inbound, "a run of \(chunks.count) chunks in one transaction")
                }
                guard let verifier = state.appendable(id, first: first) else { continue }  // stale run
                guard (spool.stored[id] ?? 0) == first else {
                    throw FuzzFinding(
                        .inbound, "a run from chunk \(first) where the spool holds \(spool.stored[id] ?? 0)")
                }
                var good = 0
                while good < chunks.count,
                    (try? verifier.verify(index: first + good, ciphertext: chunks[good])) != nil
                {
                    good += 1
                }
                spool.stored[id] = first + good
                out +=
                    good == chunks.count
                    ? state.appended(id, stored: first + good) : state.appendRejected(id, have: first + good)
            }
        }
        // Completions (from `began` or `appended` above, or pending ones) run the custody commit.
        var completions = work.compactMap { if case .complete(let id) = $0 { id } else { nil } }
        completions += out.compactMap { if case .complete(let id) = $0 { id } else { nil } }
        out.removeAll { if case .complete = $0 { true } else { false } }
        for id in completions {
            guard let (verifier, _) = state.completion(id) else { continue }
            guard spool.stored[id] == verifier.header.layout.chunkCount else {
                throw FuzzFinding(.inbound, "the custody commit of \(id) with \(spool.stored[id] ?? 0) chunks stored")
            }
            spool.committed.insert(id)
            out += state.completed(id)
        }
        return out
    }

    /// What every action must respect whatever the peer did.
    static func check(
        _ action: InboundState.Action, verifiers: [EnvelopeID: ChunkVerifier], spool: Spool,
        limits: InboundState.Limits
    ) throws(FuzzFinding) {
        func layout(_ id: EnvelopeID) throws(FuzzFinding) -> ChunkLayout {
            guard let v = verifiers[id] else { throw FuzzFinding(.inbound, "an action named \(id), never offered") }
            return v.header.layout
        }
        switch action {
        case .refuse(let id, _, _), .have(let id): _ = try layout(id)
        case .sendFrom(let id, let k), .askAgain(let id, let k):
            guard k >= 0, k <= (try layout(id)).chunkCount else {
                throw FuzzFinding(.inbound, "SEND_FROM \(k) for an envelope of \((try layout(id)).chunkCount) chunks")
            }
        case .stored(let id, let n):
            _ = try layout(id)
            guard n <= spool.stored[id] ?? 0 else {
                throw FuzzFinding(.inbound, "STORED \(n) where the spool holds \(spool.stored[id] ?? 0)")
            }
        case .ack(let ids):
            for id in ids where !spool.committed.contains(id) {
                _ = try layout(id)
                throw FuzzFinding(.inbound, "ACK of \(id) before its custody commit")
            }
        case .commitSmall(let e):
            guard e.header.layout.chunkCount <= max(1, limits.smallEnvelopeChunks) else {
                throw FuzzFinding(.inbound, "a \(e.header.layout.chunkCount)-chunk envelope held as small")
            }
        case .begin(let v, _): _ = try layout(v.header.id)
        case .append(let id, let index, let bytes):
            let l = try layout(id)
            guard index >= 0, index < l.chunkCount, bytes.count == l.ciphertextLength(of: index) else {
                throw FuzzFinding(.inbound, "chunk \(index) of \(bytes.count) bytes queued for the spool")
            }
        case .complete(let id): _ = try layout(id)
        }
    }
}
