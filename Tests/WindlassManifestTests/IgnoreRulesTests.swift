import Testing
import WindlassTesting
@testable import WindlassManifest

@Suite("gitignore-style .windlassignore patterns")
struct IgnoreRulesTests {
    static let cases: [(pattern: String, path: String, isDirectory: Bool, ignored: Bool)] = [
        ("*.json", "a.json", false, true),
        ("*.json", "deep/dir/a.json", false, true),
        ("*.json", "a.yaml", false, false),
        ("/top.yaml", "top.yaml", false, true),
        ("/top.yaml", "sub/top.yaml", false, false),
        ("drafts/", "drafts", true, true),
        ("drafts/", "drafts", false, false),
        ("docs/*.yaml", "docs/a.yaml", false, true),
        ("docs/*.yaml", "docs/x/a.yaml", false, false),
        ("**/test/*.yaml", "a/b/test/c.yaml", false, true),
        ("**/test/*.yaml", "test/c.yaml", false, true),
        ("a/**/z.yaml", "a/z.yaml", false, true),
        ("a/**/z.yaml", "a/b/c/z.yaml", false, true),
        ("a/**", "a/b/c.yaml", false, true),
        ("app-?.yaml", "app-1.yaml", false, true),
        ("app-?.yaml", "app-12.yaml", false, false),
        ("app-[0-9].yaml", "app-5.yaml", false, true),
        ("app-[!0-9].yaml", "app-5.yaml", false, false),
        ("\\#hash.yaml", "#hash.yaml", false, true),
    ]

    @Test("patterns match as in git", arguments: cases)
    func matches(pattern: String, path: String, isDirectory: Bool, ignored: Bool) {
        var rules = IgnoreRules()
        rules.add(pattern, in: "")
        #expect(rules.isIgnored(path, isDirectory: isDirectory) == ignored, "\(pattern) vs \(path)")
    }

    @Test("negation re-includes, comments and blank lines are skipped, the last match wins")
    func negation() {
        var rules = IgnoreRules()
        rules.add("# generated files\n\n*.yaml\n!keep.yaml\n", in: "")
        #expect(rules.isIgnored("drop.yaml", isDirectory: false))
        #expect(!rules.isIgnored("keep.yaml", isDirectory: false))
    }

    @Test("rules of a subdirectory's file apply only below it")
    func scoped() {
        var rules = IgnoreRules()
        rules.add("local.yaml\n/anchored.yaml\n", in: "team")
        #expect(rules.isIgnored("team/local.yaml", isDirectory: false))
        #expect(rules.isIgnored("team/x/local.yaml", isDirectory: false))
        #expect(!rules.isIgnored("local.yaml", isDirectory: false))
        #expect(rules.isIgnored("team/anchored.yaml", isDirectory: false))
        #expect(!rules.isIgnored("team/x/anchored.yaml", isDirectory: false))
    }
}
