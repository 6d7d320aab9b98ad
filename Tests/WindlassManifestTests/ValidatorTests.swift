import Testing
import WindlassTesting
import WindlassManifest

@Suite("Validation against Kubernetes schemas")
struct ValidatorTests {
    func check(_ text: String) throws -> [Diagnostic] {
        let dir = try TemporaryDirectory()
        let path = try dir.write("m.yaml", text)
        return try validate([path]).1.map {
            var d = $0
            d.location.path = "m.yaml"
            return d
        }
    }

    @Test("the bundled example validates clean")
    func bundledManifests() throws {
        let (set, diagnostics) = try validate([repositoryRoot + "/manifests"])
        #expect(diagnostics.errors.isEmpty, "\(diagnostics.errors)")
        #expect(set.resources.count >= 20)
        let kinds = Set(set.resources.map(\.id.kind))
        #expect(kinds.isSuperset(of: ["Namespace", "StatefulSet", "Deployment", "DaemonSet", "Service", "ConfigMap", "Secret", "VirtualMachine"]))
        // The two VirtualMachines have no schema: one note, no error.
        #expect(diagnostics.filter { $0.severity == .note }.count == 1)
    }

    @Test("the API server's size limits: ConfigMap and Secret data at most 1 MiB, annotations at most 256 KiB")
    func sizeLimits() throws {
        let half = String(repeating: "a", count: 600_000)
        let configMap = try check("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  a: \(half)\n  b: \(half)\n")
        #expect(configMap.map(\.description) == ["m.yaml:4:1: error: ConfigMap big: data: too long: 1200002 bytes, at most 1048576 (the API server's limit for a ConfigMap)"])
        #expect(try check("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fits}\ndata:\n  a: \(half)\n").isEmpty)
        // A Secret's data counts decoded: 1,200,000 base64 characters are 900,000 bytes.
        let encoded = String(repeating: "QUFB", count: 300_000)
        #expect(try check("apiVersion: v1\nkind: Secret\nmetadata: {name: fits}\ndata:\n  a: \(encoded)\n").isEmpty)
        let more = String(repeating: "b", count: 200_000)
        let secret = try check("apiVersion: v1\nkind: Secret\nmetadata: {name: big}\ndata:\n  a: \(encoded)\nstringData:\n  b: \(more)\n")
        #expect(secret.map(\.description) == ["m.yaml:4:1: error: Secret big: data: too long: 1100000 bytes, at most 1048576 (the API server's limit for a Secret)"])
        let note = String(repeating: "n", count: 300_000)
        let annotated = try check("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: noted\n  annotations:\n    note: \(note)\n")
        #expect(annotated.map(\.description) == ["m.yaml:5:3: error: ConfigMap noted: metadata.annotations: too long: 300004 bytes, at most 262144 (the API server's limit)"])

        // An object of 1.6 MiB (here a CRD-like custom resource with a large spec), or one of a
        // List's items: too large to store. A List holding many small objects is fine.
        var spec = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: huge}\nspec:\n"
        for key in 0..<80_000 { spec += "  field\(key): value-\(key)\n" }
        let huge = try check(spec)
        #expect(huge.errors.map(\.description) == ["m.yaml:1:1: error: Widget huge: the object is larger than 1.5 MiB as JSON; Kubernetes stores objects of at most 1.5 MiB (etcd's request limit)"])
        var list = "apiVersion: v1\nkind: List\nitems:\n"
        for index in 0..<2_000 { list += "  - {apiVersion: v1, kind: ConfigMap, metadata: {name: c\(index)}, data: {a: \(String(repeating: "x", count: 1_000))}}\n" }
        #expect(try check(list).isEmpty)
    }

    @Test("every built-in group has its schema: networking, storage, rbac, policy, scheduling, admission, flowcontrol, …")
    func everyBuiltInGroup() throws {
        let clean = try check(
            """
            apiVersion: networking.k8s.io/v1
            kind: Ingress
            metadata: {name: web}
            spec:
              ingressClassName: nginx
              rules: [{host: shop.example, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
            ---
            apiVersion: storage.k8s.io/v1
            kind: StorageClass
            metadata: {name: fast}
            provisioner: example.com/fast
            allowVolumeExpansion: true
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {name: reader}
            rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
            ---
            apiVersion: policy/v1
            kind: PodDisruptionBudget
            metadata: {name: web}
            spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}
            ---
            apiVersion: scheduling.k8s.io/v1
            kind: PriorityClass
            metadata: {name: high}
            value: 1000
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: deny}
            spec: {podSelector: {}, policyTypes: [Ingress]}
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingWebhookConfiguration
            metadata: {name: hooks}
            webhooks: []
            ---
            apiVersion: coordination.k8s.io/v1
            kind: Lease
            metadata: {name: leader}
            spec: {holderIdentity: a}
            """)
        #expect(clean.isEmpty, "\(clean.map(\.description))")
        let broken = try check(
            """
            apiVersion: networking.k8s.io/v1
            kind: Ingress
            metadata: {name: web}
            spec:
              rule: []
            ---
            apiVersion: storage.k8s.io/v1
            kind: StorageClass
            metadata: {name: fast}
            provisioner: example.com/fast
            allowVolumeExpansion: "yes"
            ---
            apiVersion: networking.k8s.io/v1
            kind: Ingres
            metadata: {name: typo}
            """)
        #expect(
            broken.map(\.description) == [
                #"m.yaml:5:3: error: Ingress web: unknown field "spec.rule" (did you mean "rules"?)"#,
                #"m.yaml:11:23: error: StorageClass fast: allowVolumeExpansion: expected a boolean, found string "yes""#,
                #"m.yaml:14:7: error: Ingres typo: no kind "Ingres" is registered for version "networking.k8s.io/v1" (did you mean "Ingress"?)"#,
            ])
    }

    @Test("--kubernetes-version: a kind the version does not serve is an error saying when it was added or removed")
    func kubernetesVersions() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write(
            "m.yaml",
            """
            apiVersion: flowcontrol.apiserver.k8s.io/v1beta2
            kind: FlowSchema
            metadata: {name: f}
            spec: {priorityLevelConfiguration: {name: global-default}}
            ---
            apiVersion: flowcontrol.apiserver.k8s.io/v1
            kind: FlowSchema
            metadata: {name: g}
            spec: {priorityLevelConfiguration: {name: global-default}}
            """)
        let set = try ManifestLoader.load(paths: [path])
        #expect(ManifestValidator().validate(set).filter { $0.severity == .error }.isEmpty, "any version: both are known")
        let old = ManifestValidator(kubernetesVersion: 27).validate(set).filter { $0.severity == .error }.map(\.message)
        #expect(old == [#"FlowSchema g: "flowcontrol.apiserver.k8s.io/v1" FlowSchema is not served by Kubernetes 1.27: it is served from 1.29"#])
        let new = ManifestValidator(kubernetesVersion: 33).validate(set).filter { $0.severity == .error }.map(\.message)
        #expect(new == [#"FlowSchema f: "flowcontrol.apiserver.k8s.io/v1beta2" FlowSchema is not served by Kubernetes 1.33: it was removed in 1.29"#])
        #expect(ManifestValidator.coveredVersions.lowerBound == 27 && ManifestValidator.coveredVersions.upperBound >= 33)
    }

    @Test("a well-formed Deployment has no findings")
    func clean() throws {
        let diagnostics = try check(
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, labels: {app.kubernetes.io/name: web}, annotations: {windlass.dev/sync-wave: "1"}}
            spec:
              replicas: 2
              strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}}
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers:
                    - name: web
                      image: nginx:1.25.3
                      ports: [{containerPort: 80, protocol: TCP}]
                      resources: {limits: {cpu: 1, memory: 1Gi}, requests: {cpu: 100m, memory: 64Mi}}
                      env: [{name: A, value: "yes"}]
                  volumes: [{name: data, emptyDir: {}}]
            status: {replicas: 2}
            """
        )
        #expect(diagnostics.isEmpty, "\(diagnostics)")
    }

    @Test("every finding of an object is reported, each located at its field")
    func findings() throws {
        let diagnostics = try check(
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec:
              replicas: "3"
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers:
                    - name: web
                      image: nginx:1.25.3
                      imagePolicy: Always
                      ports: [{containerPort: 80, protocol: TCPX}]
            """
        )
        #expect(diagnostics.map(\.description) == [
            #"m.yaml:5:13: error: Deployment web: spec.replicas: expected an integer, found string "3""#,
            #"m.yaml:13:11: error: Deployment web: unknown field "spec.template.spec.containers[0].imagePolicy""#,
            #"m.yaml:14:49: error: Deployment web: spec.template.spec.containers[0].ports[0].protocol: unsupported value "TCPX": supported values: "SCTP", "TCP", "UDP""#,
        ])
    }

    @Test("custom resources are checked against a CustomResourceDefinition in the set")
    func customResources() throws {
        let crd = """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: databases.example.com}
            spec:
              group: example.com
              scope: Namespaced
              names: {kind: Database, plural: databases}
              versions:
                - name: v1
                  served: true
                  storage: true
                  schema:
                    openAPIV3Schema:
                      type: object
                      properties:
                        spec:
                          type: object
                          required: [engine]
                          properties:
                            engine: {type: string, enum: [mariadb, postgres]}
                            replicas: {type: integer}
                            extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
            ---
            """
        let good = try check(crd + "\napiVersion: example.com/v1\nkind: Database\nmetadata: {name: a}\nspec: {engine: mariadb, extra: {any: thing}}\n")
        #expect(good.errors.isEmpty, "\(good)")
        let bad = try check(crd + "\napiVersion: example.com/v1\nkind: Database\nmetadata: {name: a}\nspec: {replicas: two}\n")
        #expect(bad.errors.map(\.message) == [
            #"Database a: spec.replicas: expected an integer, found string "two""#,
            "Database a: spec.engine: required field is missing",
        ])
    }

    @Test("kinds with no schema are accepted with one note per kind; their metadata is still checked")
    func noSchema() throws {
        let diagnostics = try check(
            """
            apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            metadata: {name: vm-a, labels: {tier: "front end"}}
            spec: {anything: goes}
            ---
            apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            metadata: {name: vm-b}
            """
        )
        #expect(diagnostics.map(\.severity) == [.error, .note])
        #expect(diagnostics[1].message.contains("kubevirt.io/v1 VirtualMachine (2 resources)"))
    }

    @Test("a selector that does not match the template labels is an error")
    func selector() throws {
        let diagnostics = try check(
            """
            apiVersion: apps/v1
            kind: StatefulSet
            metadata: {name: db}
            spec:
              serviceName: db
              selector: {matchLabels: {app: db}}
              template:
                metadata: {labels: {app: database}}
                spec: {containers: [{name: db, image: "mariadb:10.11"}]}
            """
        )
        #expect(diagnostics.map(\.description) == [
            #"m.yaml:6:28: error: StatefulSet db: spec.selector.matchLabels.app: selector does not match template labels (the template has string "database")"#
        ])
    }

    @Test("name rules follow Kubernetes per kind", arguments: [
        ("Namespace", "v1", "my.namespace", true),
        ("Service", "v1", "9lives", true),
        ("ConfigMap", "v1", "my.config-1", false),
        ("ConfigMap", "v1", "UPPER", true),
        ("ClusterRole", "rbac.authorization.k8s.io/v1", "system:aggregate-to-view", false),
        ("ClusterRole", "rbac.authorization.k8s.io/v1", "a/b", true),
    ])
    func names(kind: String, apiVersion: String, name: String, invalid: Bool) throws {
        let diagnostics = try check("apiVersion: \(apiVersion)\nkind: \(kind)\nmetadata:\n  name: \"\(name)\"\n")
        #expect(diagnostics.errors.contains { $0.message.contains("is not a valid \(kind) name") } == invalid)
    }
}
