internal import CYAML
import Glibc
import WindlassManifest

/// The measured cases. Each runs in a child process so its peak RSS is its own.
enum BenchCase: String, CaseIterable {
    /// The floor: libyaml's event scan of the same files, a Swift String per scalar, one thread.
    case libyamlScan = "libyaml-scan"
    /// Windlass's loader into Resources, as users run it (all cores).
    case load
    /// The loader on one thread, for a like-for-like ratio with the floor.
    case loadOneThread = "load-1-thread"
    /// Loading plus schema validation, as `windlass validate` does it.
    case loadValidate = "load+validate"

    /// Runs once over the tree. Returns a count that depends on the work (so it is not elided)
    /// and what was built, which the caller frees after stopping the clock: the cases measure
    /// loading, not tearing down (a CLI exits without freeing).
    func run(root: String, files: [String]) -> (count: Int, result: ManifestSet?) {
        switch self {
        case .libyamlScan:
            var scalars = 0
            for file in files { scalars += Self.scan(file) }
            return (scalars, nil)
        case .load:
            let set = ManifestLoader.load(DirectoryTree(root: root))
            return (set.resources.count, set)
        case .loadOneThread:
            let set = ManifestLoader.load(DirectoryTree(root: root), options: LoadOptions(concurrency: 1))
            return (set.resources.count, set)
        case .loadValidate:
            let set = ManifestLoader.load(DirectoryTree(root: root))
            let diagnostics = ManifestValidator().validate(set)
            precondition(diagnostics.isEmpty, "the generated tree should validate clean: \(diagnostics.prefix(3))")
            return (set.resources.count, set)
        }
    }

    /// Reads a file and walks its libyaml events, making a String of every scalar.
    static func scan(_ path: String) -> Int {
        let bytes = readFile(path)
        var count = 0
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        let event = UnsafeMutablePointer<yaml_event_t>.allocate(capacity: 1)
        defer {
            parser.deallocate()
            event.deallocate()
        }
        yaml_parser_initialize(parser)
        defer { yaml_parser_delete(parser) }
        bytes.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(parser, buffer.baseAddress, buffer.count)
            while yaml_parser_parse(parser, event) == 1 {
                let type = event.pointee.type
                if type == YAML_SCALAR_EVENT {
                    let scalar = event.pointee.data.scalar
                    let string = String(
                        decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length),
                        as: UTF8.self
                    )
                    count &+= string.utf8.count > 0 ? 1 : 0
                }
                yaml_event_delete(event)
                if type == YAML_STREAM_END_EVENT { break }
            }
        }
        return count
    }

    static func readFile(_ path: String) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        precondition(fd >= 0, "cannot read \(path)")
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { break }
            offset += n
        }
        return bytes
    }
}
