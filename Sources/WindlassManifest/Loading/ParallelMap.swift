import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum SystemInfo {
    /// The number of processors online.
    static var activeProcessorCount: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
}

/// Results written by concurrent workers, each to its own slot.
private final class Slots<T>: @unchecked Sendable {
    var values: [T?]

    init(count: Int) {
        values = Array(repeating: nil, count: count)
    }
}

/// Maps `0..<count` with up to `concurrency` threads, keeping the order of the results.
public func parallelMap<T>(count: Int, concurrency: Int, _ transform: @Sendable (Int) -> T) -> [T] {
    guard count > 1, concurrency > 1 else { return (0..<count).map(transform) }
    let slots = Slots<T>(count: count)
    let workers = min(concurrency, count)
    slots.values.withUnsafeMutableBufferPointer { buffer in
        nonisolated(unsafe) let buffer = buffer
        let next = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        next.initialize(to: 0)
        defer { next.deallocate() }
        nonisolated(unsafe) let counter = next
        let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        defer {
            pthread_mutex_destroy(lock)
            lock.deallocate()
        }
        nonisolated(unsafe) let mutex = lock
        // Workers take small batches in turn, so one slow file does not hold up the rest.
        let batch = max(1, min(64, count / (workers * 8)))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                pthread_mutex_lock(mutex)
                let start = counter.pointee
                counter.pointee = start + batch
                pthread_mutex_unlock(mutex)
                if start >= count { return }
                for index in start..<min(start + batch, count) {
                    buffer[index] = transform(index)
                }
            }
        }
    }
    return slots.values.map { $0! }
}
