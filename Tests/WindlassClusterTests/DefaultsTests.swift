import Testing
import WindlassCluster
import WindlassManifest

@Suite("Kubernetes defaults (REFERENCE.md §2)")
struct DefaultsTests {
    @Test("a Deployment gets the API server's defaults, and keeps what it sets")
    func deployment() throws {
        let input = try object("""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec:
              revisionHistoryLimit: 3
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers:
                    - name: web
                      image: nginx:1.25
                      ports: [{containerPort: 80}]
                      readinessProbe: {httpGet: {port: 80}}
                    - name: sidecar
                      image: registry.local:5000/tools
            """)
        let out = Defaults.apply(to: input)
        #expect(out[path: ["spec", "replicas"]] == 1)
        #expect(out[path: ["spec", "revisionHistoryLimit"]] == 3)
        #expect(out[path: ["spec", "progressDeadlineSeconds"]] == 600)
        #expect(out[path: ["spec", "strategy"]] == ["type": "RollingUpdate", "rollingUpdate": ["maxSurge": "25%", "maxUnavailable": "25%"]])
        let pod = try #require(out[path: ["spec", "template", "spec"]])
        #expect(pod["dnsPolicy"] == "ClusterFirst")
        #expect(pod["restartPolicy"] == "Always")
        #expect(pod["terminationGracePeriodSeconds"] == 30)
        #expect(pod["schedulerName"] == "default-scheduler")
        #expect(pod["securityContext"] == [:])
        let web = try #require(pod["containers"]?.sequenceValue?.first)
        #expect(web["imagePullPolicy"] == "IfNotPresent")
        #expect(web["terminationMessagePath"] == "/dev/termination-log")
        #expect(web[path: ["ports"]] == [["containerPort": 80, "protocol": "TCP"]])
        #expect(web["readinessProbe"] == ["httpGet": ["port": 80, "path": "/", "scheme": "HTTP"], "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3])
        #expect(pod["containers"]?.sequenceValue?.last?["imagePullPolicy"] == "Always")
        // Applying defaults again changes nothing.
        #expect(Defaults.apply(to: out) == out)
    }

    @Test("a Recreate Deployment gets no rollingUpdate")
    func recreate() throws {
        let out = Defaults.apply(to: try object("apiVersion: apps/v1\nkind: Deployment\nspec: {strategy: {type: Recreate}, template: {spec: {containers: []}}}"))
        #expect(out[path: ["spec", "strategy"]] == ["type": "Recreate"])
    }

    @Test("Service, Secret and StatefulSet defaults")
    func others() throws {
        let service = Defaults.apply(to: try object("apiVersion: v1\nkind: Service\nspec: {ports: [{port: 80}, {port: 443, targetPort: https}]}"))
        #expect(service[path: ["spec", "type"]] == "ClusterIP")
        #expect(service[path: ["spec", "sessionAffinity"]] == "None")
        #expect(service[path: ["spec", "ports"]] == [["port": 80, "protocol": "TCP", "targetPort": 80], ["port": 443, "targetPort": "https", "protocol": "TCP"]])
        #expect(Defaults.apply(to: try object("apiVersion: v1\nkind: Secret\nmetadata: {name: s}"))["type"] == "Opaque")
        let sts = Defaults.apply(to: try object("apiVersion: apps/v1\nkind: StatefulSet\nspec: {template: {spec: {containers: [{name: db, image: 'mariadb:10'}]}}}"))
        #expect(sts[path: ["spec", "podManagementPolicy"]] == "OrderedReady")
        #expect(sts[path: ["spec", "updateStrategy"]] == ["type": "RollingUpdate", "rollingUpdate": ["partition": 0]])
        #expect(sts[path: ["spec", "replicas"]] == 1)
    }

    @Test("image pull policy follows the tag", arguments: [
        ("nginx", "Always"), ("nginx:latest", "Always"), ("nginx:1.25", "IfNotPresent"),
        ("registry.local:5000/nginx", "Always"), ("registry.local:5000/nginx:2", "IfNotPresent"),
        ("nginx@sha256:abcd", "IfNotPresent"),
    ])
    func pullPolicy(image: String, policy: String) {
        #expect(Defaults.pullPolicy(for: image) == policy)
    }
}

@Suite("Label selectors")
struct LabelSelectorTests {
    @Test("the string form parses and matches as kubectl's -l", arguments: [
        ("app=web", ["app": "web"], true),
        ("app==web", ["app": "api"], false),
        ("app!=web", ["tier": "x"], true),
        ("app=web,tier=front", ["app": "web", "tier": "front"], true),
        ("app=web,tier=front", ["app": "web"], false),
        ("env in (prod, staging)", ["env": "staging"], true),
        ("env notin (prod)", ["env": "dev"], true),
        ("env notin (prod)", [:], true),
        ("canary", ["canary": ""], true),
        ("!canary", ["canary": "x"], false),
        ("", ["any": "thing"], true),
    ])
    func parse(text: String, labels: [String: String], matches: Bool) throws {
        #expect(try LabelSelector(parsing: text).matches(labels) == matches, "\(text)")
    }

    @Test("selectors from spec.selector, and bad ones rejected")
    func fromValue() throws {
        let selector = try LabelSelector(object("matchLabels: {app: web}\nmatchExpressions: [{key: tier, operator: In, values: [front, edge]}]"))
        #expect(selector.matches(["app": "web", "tier": "edge"]))
        #expect(!selector.matches(["app": "web", "tier": "back"]))
        #expect(selector.description == "app=web,tier in (front,edge)")
        #expect(throws: SelectorError.self) { try LabelSelector(object("matchExpressions: [{key: tier, operator: Near}]")) }
        #expect(throws: SelectorError.self) { try LabelSelector(parsing: "env in prod") }
        #expect(throws: SelectorError.self) { try LabelSelector(parsing: "bad key!=x") }
    }
}

@Suite("Editing values by path")
struct ValuePathTests {
    @Test("set creates mappings, setDefault keeps what is there, remove removes")
    func edits() {
        var value: Value = ["a": ["b": 1]]
        // Mutating calls stay outside #expect, which cannot mutate its operands.
        let created = value.set(2, at: ["a", "c", "d"])
        #expect(created)
        #expect(value == ["a": ["b": 1, "c": ["d": 2]]])
        let keptExisting = value.setDefault(5, at: ["a", "b"])
        #expect(!keptExisting)
        let defaulted = value.setDefault(5, at: ["a", "e"])
        #expect(defaulted)
        let removed = value.remove(at: ["a", "c"])
        #expect(removed)
        #expect(value == ["a": ["b": 1, "e": 5]])
        let throughScalar = value.set(1, at: ["a", "b", "x"])
        #expect(!throughScalar)
        let removedNothing = value.remove(at: ["nothing", "here"])
        #expect(!removedNothing)
    }
}
