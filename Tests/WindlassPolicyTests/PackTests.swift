import Foundation
import Testing
import WindlassManifest
import WindlassPolicy
import WindlassTesting

/// The built-in pack in policies/, as shipped.
@Suite("The built-in policy pack")
struct PackTests {
    static let pack: PolicySet = {
        do {
            return try PolicySet.load(repositoryRoot + "/policies")
        } catch {
            fatalError("policies/: \(error)")
        }
    }()

    static let corpus = repositoryRoot + "/Tests/Fixtures/policy-corpus"

    @Test("loads without a diagnostic: the 18 common checks and more, each with its Checkov id or Polaris name")
    func loads() throws {
        #expect(Self.pack.diagnostics.isEmpty, "\(Self.pack.diagnostics)")
        let ids = Set(Self.pack.policies.compactMap(\.checkID))
        let common = [8, 9, 10, 11, 12, 13, 14, 16, 17, 18, 19, 20, 21, 22, 23, 25, 26, 27, 28, 31, 35, 38, 39].map { "CKV_K8S_\($0)" }
        #expect(Set(common).isSubset(of: ids), "missing \(Set(common).subtracting(ids).sorted())")
        #expect(Self.pack.policies.count >= 25)
    }

    @Test("the pack compiled into the binary is policies/ as it is (run scripts/embed-policies.py after editing it)")
    func builtinIsThePack() throws {
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/policies").filter { $0.hasSuffix(".yaml") }.sorted()
        let tree = PolicySet.builtinTree
        #expect(tree.files.keys.sorted() == onDisk)
        for name in onDisk {
            let text = try String(contentsOfFile: repositoryRoot + "/policies/" + name, encoding: .utf8)
            #expect(tree.files[name] == Array(text.utf8), "\(name) differs from its compiled copy")
        }
        #expect(PolicySet.builtin.diagnostics.isEmpty, "\(PolicySet.builtin.diagnostics)")
        #expect(PolicySet.builtin.policies.map(\.name).sorted() == Self.pack.policies.map(\.name).sorted())
    }

    @Test("a test's fail and warn both say the rule is violated: moving a rule between Enforce and Audit keeps its tests")
    func testsSurviveActionChanges() throws {
        let dir = try TemporaryDirectory()
        let policy = try String(contentsOfFile: repositoryRoot + "/policies/disallow-host-pid.yaml", encoding: .utf8)
        #expect(policy.contains("Enforce"))
        let audit = try dir.write("disallow-host-pid.yaml", policy.replacingOccurrences(of: "Enforce", with: "Audit"))
        let set = try PolicySet.load(audit)
        let loaded = try ManifestLoader.load(paths: [repositoryRoot + "/policies/disallow-host-pid.test.yaml"])
        let tests = PolicyTest.read(loaded).tests
        let outcomes = tests.flatMap { $0.run(set) }
        #expect(outcomes.contains { $0.expectation.result == .fail && $0.actual == .warn })
        let broken = outcomes.filter { !$0.passed }.map(\.expectation.resource)
        #expect(broken.isEmpty, "\(broken)")
        // A violation is still not a pass: the Audit rule on a Pod expected to pass does pass.
        #expect(outcomes.contains { $0.expectation.result == .pass && $0.actual == .pass })
    }

    @Test("host, privilege, hostPath and SYS_ADMIN checks are Enforce; the rest Audit")
    func actions() throws {
        let enforced = Set(Self.pack.policies.filter { $0.rules.allSatisfy { $0.failureAction == .enforce } }.map(\.name))
        #expect(
            enforced == [
                "disallow-privileged-containers", "disallow-host-pid", "disallow-host-ipc", "disallow-host-network",
                "disallow-privilege-escalation", "disallow-host-path", "disallow-docker-socket", "disallow-sys-admin",
            ])
        #expect(Self.pack.policies.allSatisfy { policy in policy.rules.allSatisfy { $0.failureAction == policy.rules[0].failureAction } })
    }

    @Test("every *.test.yaml beside the pack holds, and every policy has one")
    func packTests() throws {
        var tested = Set<String>()
        var count = 0
        for file in Self.pack.testFiles {
            let set = try ManifestLoader.load(paths: [repositoryRoot + "/policies/" + file])
            let (tests, diagnostics) = PolicyTest.read(set)
            #expect(diagnostics.isEmpty, "\(file): \(diagnostics)")
            for test in tests {
                for outcome in test.run(Self.pack) {
                    count += 1
                    tested.insert(outcome.expectation.policy)
                    #expect(
                        outcome.passed,
                        "\(outcome.expectation.location) \(outcome.expectation.policy)/\(outcome.expectation.rule) \(outcome.expectation.resource): expected \(outcome.expectation.result), got \(outcome.actual.map(\.rawValue) ?? "no result") \(outcome.message)"
                    )
                }
            }
        }
        #expect(tested == Set(Self.pack.policies.map(\.name)), "untested: \(Set(Self.pack.policies.map(\.name)).subtracting(tested).sorted())")
        #expect(count >= 100)
    }

    /// The corpus holds one manifest per file; checkov-verdicts.json is Checkov's own output on
    /// it (scripts/checkov-corpus.sh), for every check the pack carries.
    @Test("on the corpus of 60+ manifests, every verdict of every Checkov check in the pack agrees with Checkov's")
    func corpusAgreesWithCheckov() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.corpus + "/checkov-verdicts.json"))
        let checkov = try #require(try JSONSerialization.jsonObject(with: data) as? [String: [String: String]])
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.corpus).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files.count >= 60)
        var compared = 0
        var failingCases = 0
        for file in files {
            let set = try ManifestLoader.load(paths: [Self.corpus + "/" + file])
            #expect(set.diagnostics.isEmpty && set.resources.count == 1, "\(file): \(set.diagnostics)")
            let results = PolicyEngine.evaluate(Self.pack, on: set)
            for policy in Self.pack.policies {
                guard let id = policy.checkID else { continue }
                let ours = results.filter { $0.policy == policy.name }
                let failed = ours.contains { $0.status == .fail || $0.status == .warn }
                // Absent: Checkov does not judge this kind with this check (nor do we fail it).
                let theirs = checkov[file]?[id]
                #expect(failed == (theirs == "FAILED"), "\(file) \(id) (\(policy.name)): Checkov \(theirs ?? "no verdict"), Windlass \(ours.map(\.status.rawValue))")
                compared += 1
            }
            // The file name says which check the case is about and what Checkov's documentation
            // says of it; the recorded verdict must say the same.
            let parts = file.split(separator: ".")
            if parts[0] != "all" {
                let expected = parts[1] == "failed" ? "FAILED" : "PASSED"
                #expect((checkov[file]?[String(parts[0])] ?? "PASSED") == expected, "\(file)")
                if expected == "FAILED" { failingCases += 1 }
            }
        }
        #expect(compared >= 60 * 23)
        #expect(failingCases >= 23)
    }
}
