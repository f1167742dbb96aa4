import Dispatch
import SodiumKit
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs one sequential job and a set of independent items on two cores at once.
///
/// Why: secretstream encryption is inherently sequential, but hashing chunks is not. Running the
/// chunk digests beside the cipher (the cipher lane joins the hashing once it is done) keeps
/// sealing and opening near the speed of the cipher alone instead of the sum of both.
enum TwoLanes {
    /// Runs `produce(0..<count)` in order on one lane and `consume(0..<count)` on both lanes.
    /// With `consumeAfterProduce`, `consume(j)` starts only once `produce(j)` has finished
    /// (sealing: hash a chunk once it is encrypted); without it, the two are independent
    /// (opening: hash and decrypt the same chunk side by side). The first error from `produce`
    /// stops the run and is rethrown.
    static func run(
        count: Int, consumeAfterProduce: Bool,
        produce: (Int) throws -> Void, consume: (Int) -> Void
    ) throws {
        guard count > 1 else {
            for j in 0..<count {
                try produce(j)
                consume(j)
            }
            return
        }
        try withoutActuallyEscaping(produce) { produce in
            try withoutActuallyEscaping(consume) { consume in
                let work = Work(count: count, waits: consumeAfterProduce, produce: produce, consume: consume)
                DispatchQueue.concurrentPerform(iterations: 2) { lane in
                    if lane == 0 { work.produceAll() }
                    work.consumeAll()
                }
                if let error = work.failure.withLock({ $0 }) { throw error }
            }
        }
    }

    /// The shared state of one run. @unchecked Sendable: `concurrentPerform` joins both lanes
    /// before `run` returns, so nothing escapes, and the callers' closures touch disjoint slots.
    private final class Work: @unchecked Sendable {
        let count: Int
        let waits: Bool
        let produce: (Int) throws -> Void
        let consume: (Int) -> Void
        let produced = Atomic<Int>(0)
        let nextConsumer = Atomic<Int>(0)
        let aborted = Atomic<Bool>(false)
        let failure = Locked<(any Error)?>(nil)

        init(count: Int, waits: Bool, produce: @escaping (Int) throws -> Void, consume: @escaping (Int) -> Void) {
            self.count = count
            self.waits = waits
            self.produce = produce
            self.consume = consume
        }

        func produceAll() {
            for j in 0..<count {
                do { try produce(j) } catch {
                    failure.withLock { $0 = error }
                    aborted.store(true, ordering: .releasing)
                    return
                }
                produced.store(j + 1, ordering: .releasing)
            }
        }

        func consumeAll() {
            while !aborted.load(ordering: .acquiring) {
                let i = nextConsumer.wrappingAdd(1, ordering: .relaxed).oldValue
                if i >= count { return }
                if waits {
                    // A short wait: producing one chunk takes tens of microseconds.
                    while produced.load(ordering: .acquiring) <= i {
                        if aborted.load(ordering: .acquiring) { return }
                        sched_yield()
                    }
                }
                consume(i)
            }
        }
    }
}

/// A batch of fixed-size chunk slots in one allocation, shared by the two lanes.
/// @unchecked Sendable: the lanes touch disjoint slots, and the batch is only reused after
/// `TwoLanes.run` has joined both.
final class ChunkBatch: @unchecked Sendable {
    let capacity: Int
    let slotSize: Int
    let storage: UnsafeMutableRawBufferPointer
    /// Raw storage, not an Array: the two lanes read and write different elements at once.
    let lengths: UnsafeMutableBufferPointer<Int>

    /// Plaintext is wiped on release; ciphertext need not be.
    let holdsPlaintext: Bool

    init(capacity: Int, slotSize: Int, holdsPlaintext: Bool) {
        self.capacity = capacity
        self.slotSize = slotSize
        self.holdsPlaintext = holdsPlaintext
        storage = .allocate(byteCount: max(1, capacity * slotSize), alignment: 64)
        lengths = .allocate(capacity: max(1, capacity))
        lengths.initialize(repeating: 0)
    }

    func slot(_ j: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: storage[(j * slotSize)..<((j + 1) * slotSize)])
    }

    func filled(_ j: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: storage[(j * slotSize)..<(j * slotSize + lengths[j])])
    }

    deinit {
        if holdsPlaintext { Sodium.memzero(storage) }
        storage.deallocate()
        lengths.deallocate()
    }
}

/// Chunks per batch: about 4 MiB per hand-off between the lanes (fewer hand-offs, less overhead),
/// and no more than the envelope has (a 4 KiB document must not allocate and wipe 1 MiB).
func batchCapacity(_ layout: ChunkLayout) -> Int {
    max(1, min(layout.chunkCount, 256, (4 << 20) / max(1, layout.chunkSize)))
}

/// Plaintext bytes of the largest chunk: the chunk size, or less for a one-chunk envelope.
func largestChunk(_ layout: ChunkLayout) -> Int { layout.plaintextLength(of: 0) }
