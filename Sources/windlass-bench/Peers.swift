import Glibc

/// One case measured at one size.
struct PeerMeasurement {
    var name: String
    var size: Int
    var bytes: Int
    var seconds: [Double]
    var peakRSSKiB: Int

    var median: Double {
        let sorted = seconds.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    var line: String {
        "\(name): median \(format(median, 3)) s over \(seconds.count) runs, peak RSS \(peakRSSKiB / 1024) MiB"
    }
}

func format(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "n/a" }
    var factor = 1.0
    for _ in 0..<digits { factor *= 10 }
    let rounded = (value * factor).rounded() / factor
    var text = String(rounded)
    if let dot = text.firstIndex(of: ".") {
        let decimals = text.distance(from: dot, to: text.endIndex) - 1
        if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
    }
    return text
}

/// Starting the children and the peer tools.
enum Peers {
    /// Runs a command, returning its stdout and peak RSS (from wait4's rusage).
    static func spawn(_ arguments: [String]) -> (output: String, status: Int32, peakRSSKiB: Int) {
        var pipe: [Int32] = [0, 0]
        guard Glibc.pipe(&pipe) == 0 else { fail("pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
        posix_spawn_file_actions_addclose(&actions, pipe[0])
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let status = posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ)
        guard status == 0 else { fail("cannot start \(arguments[0]): \(String(cString: strerror(status)))") }
        close(pipe[1])
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(pipe[0], $0.baseAddress, $0.count) }
            if n <= 0 { break }
            output += buffer[0..<n]
        }
        close(pipe[0])
        var exitStatus: Int32 = 0
        var usage = rusage()
        wait4(pid, &exitStatus, 0, &usage)
        return (String(decoding: output, as: UTF8.self), exitStatus, usage.ru_maxrss)
    }

    static func runChild(_ arguments: [String], name: String, size: Int, bytes: Int) -> PeerMeasurement {
        let (output, status, rss) = spawn(arguments)
        guard status == 0 else { fail("case \(name) failed at N = \(size)") }
        let seconds = output.split(separator: "\n").compactMap { Double($0) }
        return PeerMeasurement(name: name, size: size, bytes: bytes, seconds: seconds, peakRSSKiB: rss)
    }

    static let pyyamlScript = """
        import os, sys, time, yaml
        root, runs = sys.argv[1], int(sys.argv[2])
        files = [line.rstrip("\\n") for line in open(os.path.join(root, "files.txt"))]
        for _ in range(runs):
            start = time.perf_counter()
            documents = 0
            for path in files:
                with open(path, "rb") as f:
                    for document in yaml.load_all(f.read(), Loader=yaml.CSafeLoader):
                        documents += document is not None
            print(time.perf_counter() - start, flush=True)
        """

    /// A python3 whose PyYAML has the C loader, or nil.
    static func findPython() -> String? {
        for candidate in ["python3", "/usr/bin/python3"] {
            let (_, status, _) = spawn([candidate, "-c", "import yaml; yaml.CSafeLoader"])
            if status == 0 { return candidate }
        }
        print("PyYAML with its C loader was not found; the PyYAML column is left out")
        return nil
    }

    static func runPyYAML(python: String, root: String, runs: Int, size: Int, bytes: Int) -> PeerMeasurement {
        let script = root + "/pyyaml_load.py"
        TreeGenerator.writeFile(script, pyyamlScript)
        return runChild([python, script, root, String(runs)], name: "PyYAML CSafeLoader", size: size, bytes: bytes)
    }

    static func removeTree(_ root: String) {
        _ = spawn(["rm", "-rf", root])
    }
}
