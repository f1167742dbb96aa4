import Dispatch
import Synchronization

/// Runs one sequential job and a set of independent items on two cores at once.
///
/// Why: secretstream encryption is inherently sequential, but hashing chunks is not. Running the
/// chunk digests beside the cipher (the cipher lane joins the hashing once it is done) keeps
/// sealing and opening near the speed of the cipher alone instead of the sum of both.
enum TwoLanes {
    static func run(items: Int, item: (Int) -> Void, sequential: () throws -> Void) throws {
        guard items > 0 else { return try sequential() }
        let failure = Mutex<(any Error)?>(nil)
        try withoutActuallyEscaping(sequential) { sequential in
            try withoutActuallyEscaping(item) { item in
                let work = Work(sequential: sequential, item: item, items: items)
                DispatchQueue.concurrentPerform(iterations: 2) { lane in
                    if lane == 0 {
                        do { try work.sequential() } catch { failure.withLock { $0 = error } }
                    }
                    work.drain()
                }
                if let error = failure.withLock({ $0 }) { throw error }
            }
        }
    }

    /// The two jobs, handed to the lanes. @unchecked Sendable: `concurrentPerform` joins both lanes
    /// before returning, so nothing escapes, and the callers' jobs touch disjoint memory.
    private final class Work: @unchecked Sendable {
        let sequential: () throws -> Void
        let item: (Int) -> Void
        let items: Int
        let next = Atomic<Int>(0)

        init(sequential: @escaping () throws -> Void, item: @escaping (Int) -> Void, items: Int) {
            self.sequential = sequential
            self.item = item
            self.items = items
        }

        func drain() {
            while true {
                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if i >= items { return }
                item(i)
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
    var lengths: [Int]
    var firstIndex = 0
    var count = 0

    init(capacity: Int, slotSize: Int) {
        self.capacity = capacity
        self.slotSize = slotSize
        storage = .allocate(byteCount: max(1, capacity * slotSize), alignment: 64)
        lengths = Array(repeating: 0, count: capacity)
    }

    func slot(_ j: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: storage[(j * slotSize)..<((j + 1) * slotSize)])
    }

    func filled(_ j: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: storage[(j * slotSize)..<(j * slotSize + lengths[j])])
    }

    deinit {
        Sodium.memzero(storage)  // may hold plaintext
        storage.deallocate()
    }
}

/// Chunks per batch: about 1 MiB of work per lane hand-off, at least one chunk.
func batchCapacity(chunkSize: Int) -> Int { max(1, min(64, (1 << 20) / max(1, chunkSize))) }

import SodiumKit
