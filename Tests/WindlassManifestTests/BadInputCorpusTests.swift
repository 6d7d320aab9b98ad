import Foundation
import Testing
import WindlassTesting
import WindlassManifest

/// The corpus of broken inputs under Corpus/bad: each must give exactly one error, located where
/// `expectations.tsv` says, with a message containing the expected words, and no crash.
@Suite("The bad-input corpus")
struct BadInputCorpusTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var file: String
        var location: String
        var message: String
        var testDescription: String { file }
    }

    static let corpus = repositoryRoot + "/Tests/WindlassManifestTests/Corpus/bad"

    static let cases: [Case] = {
        let text = (try? String(contentsOfFile: corpus + "/expectations.tsv", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return Case(file: fields[0], location: fields[1], message: fields.count > 2 ? fields[2] : "")
        }
    }()

    @Test("the corpus holds at least 40 broken inputs")
    func size() {
        #expect(Self.cases.count >= 40)
    }

    @Test("each broken input gives one located error", arguments: cases)
    func brokenInput(_ testCase: Case) throws {
        let path = Self.corpus + "/" + testCase.file
        let (_, diagnostics) = try validate([path])
        let errors = diagnostics.errors
        #expect(errors.count == 1, "\(diagnostics)")
        let error = try #require(errors.first)
        let expectedLocation =
            testCase.location.contains("/")
            ? Self.corpus + "/" + testCase.location : path + ":" + testCase.location
        #expect(error.location.description == expectedLocation)
        #expect(error.message.contains(testCase.message), "\(error.message)")
        // One line: editors and CI annotate per line.
        #expect(!error.description.contains("\n"))
    }

    @Test("an alias bomb in a manifest fails fast with a located error")
    func aliasBomb() throws {
        let dir = try TemporaryDirectory()
        var text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\nlol:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...12 {
            text += "  a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ") + "]\n"
        }
        let path = try dir.write("bomb.yaml", text)
        let errors = try validate([path]).1.errors
        #expect(errors.count == 1)
        #expect(errors.first?.message.contains("alias bomb") == true)
    }

    @Test("10,000-deep nesting fails with a located error")
    func deepNesting() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write(
            "deep.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: " + String(repeating: "[", count: 10_000)
                + String(repeating: "]", count: 10_000) + "\n"
        )
        let errors = try validate([path]).1.errors
        #expect(errors.map(\.location.description) == [path + ":4:262"])
        #expect(errors.first?.message == "nesting is deeper than 256 levels")
    }

    @Test("a 50 MB scalar fails with a located error")
    func hugeScalar() throws {
        let dir = try TemporaryDirectory()
        var data = Data("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  blob: ".utf8)
        data.append(Data(repeating: UInt8(ascii: "x"), count: 50 << 20))
        let path = try dir.write("big.yaml", data)
        let errors = try validate([path]).1.errors
        #expect(errors.map(\.location.description) == [path + ":5:9"])
    }
}
