import Foundation
import Testing
import WindlassCluster
import WindlassManifest
import WindlassPlan
import WindlassPipeline

@Suite("Renderers and masking")
struct RenderTests {
    let source = Plan.Source(location: "git://example/cloud.git", path: "manifests", revision: String(repeating: "ab", count: 20))
    let tracking = Tracking(application: "default")

    func secret(_ name: String, data: [String: String] = [:], stringData: [String: String] = [:]) -> Value {
        var value = object("Secret", name)
        for (key, v) in data { value.set(.string(v), at: ["data", key]) }
        for (key, v) in stringData { value.set(.string(v), at: ["stringData", key]) }
        return value
    }

    /// An object as a cluster would hold it after a sync: tracked and defaulted.
    func live(_ value: Value) -> Value {
        Defaults.apply(to: tracking.prepare(value, as: ResourceID(object: value)!))
    }

    func renderAll(_ plan: Plan) -> String {
        TextRenderer(color: true).render(plan) + MarkdownRenderer().render(plan).joined() + JSONRenderer(windlassVersion: "test").render(plan)
    }

    @Test("no Secret value appears in any renderer's output, and a changed value still shows as a change")
    func masking() throws {
        // "hunter2-db-password" and its base64; "s3cr3t-token-value" in stringData.
        let oldLive = live(secret("creds", data: ["db": "aHVudGVyMi1kYi1wYXNzd29yZA=="], stringData: ["token": "s3cr3t-token-value"]))
        let gone = live(secret("gone", data: ["key": "b2xkLXNlY3JldC1rZXk="]))
        let desired = set([
            secret("creds", data: ["db": "bmV3LXNlY3JldC1wYXNzd29yZA=="], stringData: ["token": "s3cr3t-token-value"]),
            secret("fresh", stringData: ["api": "brand-new-api-key"]),
        ])
        let plan = Planner().plan(desired, source: source, live: LiveSnapshot(objects: [oldLive, gone]))
        #expect(plan.summary.line() == "Plan: 1 to add, 1 to change, 1 to destroy.")
        let output = renderAll(plan)
        for value in [
            "hunter2-db-password", "aHVudGVyMi1kYi1wYXNzd29yZA==", "new-secret-password", "bmV3LXNlY3JldC1wYXNzd29yZA==", "s3cr3t-token-value",
            "brand-new-api-key", "old-secret-key", "b2xkLXNlY3JldC1rZXk=",
        ] {
            #expect(!output.contains(value), "\(value) leaked")
        }
        let change = try #require(plan.changes.first { $0.id.name == "creds" })
        #expect(change.fields.map(\.path) == ["data.db"])
        let before = try #require(change.fields.first?.before?.stringValue)
        let after = try #require(change.fields.first?.after?.stringValue)
        #expect(before.hasPrefix("*** (hmac:") && after.hasPrefix("*** (hmac:") && before != after)
        // The same content under data (base64) and stringData (plain) masks the same.
        let mask = SecretMask(key: Array("windlass-test-key".utf8))
        #expect(mask.masked(secret("a", data: ["k": "dmFsdWU="]))[path: ["data", "k"]] == mask.masked(secret("a", stringData: ["k": "value"]))[path: ["stringData", "k"]])
        // The applied object keeps the real value: masking is for display only.
        #expect(change.object?[path: ["data", "db"]] == "bmV3LXNlY3JldC1wYXNzd29yZA==")
    }

    @Test("text: symbols, unified diff, summary; colors only when asked")
    func text() throws {
        let live = live(web())
        let plan = Planner().plan(set([web(replicas: 12), object("ConfigMap", "conf")]), source: source, live: LiveSnapshot(objects: [live]))
        let plain = TextRenderer(color: false).render(plan)
        #expect(!plain.contains("\u{1B}["))
        #expect(plain.contains("  + ConfigMap/shop/conf will be created (not in the cluster)"))
        #expect(plain.contains("  ~ apps/Deployment/shop/web will be updated in place (live differs from the manifest)"))
        #expect(plain.contains("      -  replicas: 10\n      +  replicas: 12\n"))
        #expect(plain.contains("apps/Deployment/shop/web: rolling update of 12 pods") == false, "a replicas change is not a rollout")
        #expect(plain.hasSuffix("Plan: 1 to add, 1 to change, 0 to destroy.\n"))
        #expect(TextRenderer(color: true).render(plan).contains("\u{1B}[32m+"))
    }

    @Test("JSON: format_version, addresses, Terraform actions, before and after")
    func json() throws {
        let live = live(web())
        let plan = Planner().plan(set([web(selector: "v2"), object("Namespace", "shop", namespace: nil)]), source: source, live: LiveSnapshot(objects: [live]))
        let text = JSONRenderer(windlassVersion: "test").render(plan)
        let document = try #require(try YAMLReader.read(text).first?.root)
        #expect(document["format_version"] == "1.0")
        let changes = try #require(document["resource_changes"]?.sequenceValue)
        #expect(changes.map { $0["address"]?.stringValue ?? "" } == ["Namespace/shop", "apps/Deployment/shop/web"])
        #expect(changes[0][path: ["change", "actions"]] == ["create"])
        #expect(changes[1][path: ["change", "actions"]] == ["delete", "create"])
        #expect(changes[1]["action_reason"] == "spec.selector is immutable")
        #expect(changes[1][path: ["change", "before", "spec", "selector", "matchLabels", "app"]] == "web")
        #expect(changes[1][path: ["change", "after", "spec", "selector", "matchLabels", "app"]] == "v2")
        #expect(document[path: ["summary", "line"]] == "Plan: 2 to add, 0 to change, 1 to destroy.")
        #expect(document["policy_results"] == [])
    }

    @Test("Markdown: summary outside <details>, diffs in diff fences, split past the comment limit and says so")
    func markdown() throws {
        let live = live(web())
        let plan = Planner().plan(set([web(replicas: 3)]), source: source, live: LiveSnapshot(objects: [live]))
        let single = MarkdownRenderer().render(plan)
        #expect(single.count == 1)
        let comment = try #require(single.first)
        let summary = try #require(comment.range(of: "**Plan: 0 to add, 1 to change, 0 to destroy.**"))
        let details = try #require(comment.range(of: "<details>"))
        #expect(summary.upperBound < details.lowerBound)
        #expect(comment.contains("```diff\n@@"))

        // 300 ConfigMaps with big bodies: several comments, each within the limit.
        var objects: [Value] = []
        for i in 0..<300 {
            var cm = object("ConfigMap", "cm-\(i)")
            cm.set(.string(String(repeating: "line of configuration \(i)\n", count: 40)), at: ["data", "conf"])
            objects.append(cm)
        }
        let big = Planner().plan(set(objects), source: source, live: LiveSnapshot())
        let comments = MarkdownRenderer().render(big)
        #expect(comments.count > 1)
        #expect(comments.allSatisfy { $0.count <= MarkdownRenderer.commentLimit })
        #expect(comments[0].contains("(part 1 of \(comments.count))") && comments[0].contains("comment limit"))
        #expect(comments[0].contains("**Plan: 300 to add, 0 to change, 0 to destroy.**"))
        for name in ["cm-0", "cm-150", "cm-299"] {
            #expect(comments.dropFirst().contains { $0.contains("`ConfigMap/shop/\(name)`") }, "\(name)'s diff is in a later comment")
        }
        #expect(comments.allSatisfy { $0.components(separatedBy: "```").count % 2 == 1 }, "fences balanced")
    }

    @Test("line diff: shortest edit script and unified hunks")
    func lineDiff() {
        let a = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]
        var b = a
        b[1] = "B"
        b.insert("x", at: 8)
        #expect(LineDiff.diff(a, b).filter { if case .same = $0 { return false } else { return true } }.count == 3)
        #expect(
            LineDiff.unified(a, b, context: 1) == ["@@ -1,3 +1,3 @@", " a", "-b", "+B", " c", "@@ -8,2 +8,3 @@", " h", "+x", " i"])
        #expect(LineDiff.unified([], ["new"]) == ["@@ -0,0 +1,1 @@", "+new"])
    }

    @Test("a masked value shows 8 hex digits of its content's HMAC-SHA-256 under the installation's key, the same under data and stringData")
    func maskedDigest() {
        // HMAC-SHA-256("windlass-test-key", "abc") = 42975678…; "YWJj" is "abc" in base64.
        let masked = SecretMask(key: Array("windlass-test-key".utf8)).masked(secret("s", data: ["b64": "YWJj"], stringData: ["plain": "abc"]))
        #expect(masked[path: ["data", "b64"]]?.stringValue == "*** (hmac:42975678)")
        #expect(masked[path: ["stringData", "plain"]]?.stringValue == "*** (hmac:42975678)")
        // Another installation's key masks the same value differently: a mask is no oracle
        // for guesses without the key (the unkeyed SHA-256 of "abc" starts ba7816bf).
        let other = SecretMask(key: Array("another-installation".utf8)).masked(secret("s", stringData: ["plain": "abc"]))
        #expect(other[path: ["stringData", "plain"]]?.stringValue != "*** (hmac:42975678)")
        #expect(other[path: ["stringData", "plain"]]?.stringValue != "*** (sha256:ba7816bf)")
        #expect(Hex.string([0x00, 0x0f, 0xa5, 0xff]) == "000fa5ff")
    }
}
