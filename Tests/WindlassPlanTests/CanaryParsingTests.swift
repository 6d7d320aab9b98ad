import Testing
import WindlassManifest
@testable import WindlassPlan
import WindlassRollout
import WindlassTesting

@Suite("Analysis conditions")
struct ExpressionTests {
    @Test("conditions as analysis templates write them", arguments: [
        ("result[0] >= 0.99", [0.995], true),
        ("result[0] >= 0.99", [0.9], false),
        ("len(result) == 0", [], true),
        ("isNaN(result[0]) || result[0] < 0.5", [.nan], true),
        ("result[0] * 100 > 95 && result[1] < 0.2", [0.96, 0.1], true),
        ("!(result[0] > 1) && -result[0] < 0", [0.5], true),
        ("max(result) - min(result) <= 2", [3, 4, 5], true),
        ("sum(result) / len(result) == 2", [1, 2, 3], true),
        ("abs(result[0] - 1) < 0.01", [0.995], true),
    ] as [(String, [Double], Bool)])
    func evaluate(_ text: String, _ values: [Double], _ expected: Bool) throws {
        #expect(try Expression(parsing: text).holds(for: values) == expected)
    }

    @Test("mistakes are found when parsed, with a column", arguments: [
        ("result[0] >= ", "column 14: the expression ends too early"),
        ("result[0] = 1", "column 11: use == to compare"),
        ("resutl[0] > 1", "column 1: unknown name \"resutl\" (use result, true, false, or len, isNaN, abs, min, max, sum)"),
        ("len(result, 1) > 0", "column 1: len takes 1 argument, not 2"),
        ("0.9 < result[0] < 1", "column 17: comparisons cannot be chained: use && between them"),
        ("(result[0] > 1", "column 15: expected ) to close the ("),
        ("", "column 1: the expression is empty"),
        ("result[0] > 1 )", "column 15: unexpected \")\""),
    ])
    func mistakes(_ text: String, _ message: String) {
        #expect(throws: Expression.ParseError.self) { try Expression(parsing: text) }
        do {
            _ = try Expression(parsing: text)
        } catch {
            #expect(error.description == message)
        }
    }

    @Test("what a measurement cannot answer is an evaluation error, not a crash")
    func evaluationErrors() throws {
        #expect(throws: Expression.EvaluationError.self) { try Expression(parsing: "result[2] > 1").holds(for: [1]) }
        #expect(throws: Expression.EvaluationError.self) { try Expression(parsing: "result[0] + 1").holds(for: [1]) }
        #expect(throws: Expression.EvaluationError.self) { try Expression(parsing: "max(result) > 1").holds(for: []) }
    }

    @Test("durations")
    func durations() {
        #expect(DurationText.seconds("30s") == 30 && DurationText.seconds("1m30s") == 90 && DurationText.seconds("250ms") == 0.25)
        #expect(DurationText.seconds("2h") == 7200 && DurationText.seconds("5") == 5 && DurationText.seconds("soon") == nil && DurationText.seconds("5x") == nil)
        #expect(DurationText.format(90) == "1m30s" && DurationText.format(0.5) == "0.5s" && DurationText.format(10) == "10s")
    }
}

@Suite("Rollout strategies and analysis templates at plan time")
struct StrategyParsingTests {
    func load(_ text: String) throws -> ManifestSet {
        let directory = try TemporaryDirectory()
        _ = try directory.write("canary.yaml", text)
        return ManifestLoader.load(DirectoryTree(root: directory.path), options: LoadOptions(defaultNamespace: "shop"))
    }

    static let deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: 10
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: web, image: "registry.example/web:1"}]}
        """

    @Test("a good strategy and template: steps, metrics, defaults")
    func good() throws {
        let set = try load(
            Self.deployment + """

                ---
                apiVersion: windlass.dev/v1
                kind: AnalysisTemplate
                metadata: {name: success-rate}
                spec:
                  args: [{name: service}]
                  metrics:
                    - name: success
                      interval: 5s
                      count: 3
                      successCondition: result[0] >= 0.99
                      failureCondition: result[0] < 0.9
                      noData: fail
                      provider:
                        prometheus: {address: "http://127.0.0.1:9090", query: "sum(rate(x[1m]))"}
                ---
                apiVersion: windlass.dev/v1
                kind: RolloutStrategy
                metadata: {name: web}
                spec:
                  targetRef: {kind: Deployment, name: web}
                  canary:
                    steps:
                      - setWeight: 10
                      - pause: {duration: 30s}
                      - analysis: {templates: [{templateName: success-rate}], args: [{name: service, value: web}]}
                      - setWeight: 50
                      - pause: {}
                """)
        let (strategies, diagnostics) = CanaryStrategies.read(set)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let strategy = try #require(strategies.values.first)
        #expect(strategy.target.description == "apps/Deployment/shop/web")
        #expect(strategy.summary == "setWeight 10 → pause 30s → analysis success-rate → setWeight 50 → pause (until promoted)")
        guard case .analysis(let templates, let arguments) = strategy.steps[2] else {
            Issue.record("step 3 is the analysis")
            return
        }
        #expect(arguments == ["service": "web"])
        let metric = try #require(templates.first?.metrics.first)
        #expect(metric.interval == 5 && metric.count == 3 && metric.noData == .fail && metric.consecutiveErrorLimit == 4 && metric.failureLimit == 0)
    }

    @Test("each mistake is a located error: unknown step, bad expression, missing address, weight out of range, target not found")
    func mistakes() throws {
        let set = try load(
            """
            apiVersion: windlass.dev/v1
            kind: AnalysisTemplate
            metadata: {name: broken}
            spec:
              metrics:
                - name: rate
                  successCondition: result[0] >=
                  provider:
                    prometheus: {query: "up"}
            ---
            apiVersion: windlass.dev/v1
            kind: RolloutStrategy
            metadata: {name: web}
            spec:
              targetRef: {kind: Deployment, name: missing}
              canary:
                steps:
                  - setWeight: 120
                  - wait: 5s
                  - pause: {duration: soon}
                  - analysis: {templates: [{templateName: broken}]}
            """)
        let (strategies, diagnostics) = CanaryStrategies.read(set)
        #expect(strategies.isEmpty)
        let lines = diagnostics.map { "\($0.location.position?.description ?? "?") \($0.message)" }
        #expect(
            lines == [
                "7:25 windlass.dev/AnalysisTemplate/shop/broken: metric rate: successCondition \"result[0] >=\": column 13: the expression ends too early",
                "9:21 windlass.dev/AnalysisTemplate/shop/broken: metric rate: provider.prometheus.address must be an http:// or https:// URL",
                "15:14 windlass.dev/RolloutStrategy/shop/web: the target apps/Deployment/shop/missing is not in the manifests",
                "18:20 windlass.dev/RolloutStrategy/shop/web: setWeight must be a whole number from 0 to 100",
                "19:9 windlass.dev/RolloutStrategy/shop/web: unknown step \"wait\" (expected setWeight, pause or analysis)",
                "20:27 windlass.dev/RolloutStrategy/shop/web: pause.duration \"soon\" is not a duration (such as 30s, 5m, 1h)",
                "21:32 windlass.dev/RolloutStrategy/shop/web: the analysis template broken is not in the manifests (or has errors)",
            ])
    }

    @Test("a URL made of {{args.NAME}} is checked once its arguments are in; a placeholder naming no argument is a located error")
    func templatedURLs() throws {
        let set = try load(
            """
            apiVersion: windlass.dev/v1
            kind: AnalysisTemplate
            metadata: {name: gate}
            spec:
              args: [{name: base}, {name: service}]
              metrics:
                - name: approved
                  successCondition: result[0] == 1
                  provider:
                    web: {url: "{{args.base}}/approvals/{{ args.service }}", jsonPath: "$.approved"}
                - name: rate
                  successCondition: result[0] >= 0.99
                  provider:
                    prometheus: {address: "{{args.prometheus}}", query: "up"}
                - name: scheme
                  successCondition: result[0] == 1
                  provider:
                    web: {url: "ftp://{{args.base}}"}
            """)
        let (_, diagnostics) = CanaryStrategies.read(set)
        let lines = diagnostics.map { "\($0.location.position?.description ?? "?") \($0.message)" }
        #expect(
            lines == [
                "14:31 windlass.dev/AnalysisTemplate/shop/gate: metric rate: provider.prometheus.address uses {{args.prometheus}}, but spec.args declares no prometheus",
                "18:20 windlass.dev/AnalysisTemplate/shop/gate: metric scheme: provider.web.url must be an http:// or https:// URL",
            ], "\(lines)")
    }

    @Test("at run time, arguments fill the URL; one still not http(s) after them is the measurement's error, naming it")
    func expandedURLs() async throws {
        #expect(expandArguments("{{args.base}}/approvals/{{ args.service }}", ["base": "http://127.0.0.1:1", "service": "web"]) == "http://127.0.0.1:1/approvals/web")
        let set = try load(
            """
            apiVersion: windlass.dev/v1
            kind: AnalysisTemplate
            metadata: {name: gate}
            spec:
              args: [{name: base}]
              metrics:
                - name: approved
                  successCondition: result[0] == 1
                  provider:
                    web: {url: "{{args.base}}/x"}
            """)
        var metric = try #require(templateMetric(set))
        metric.provider = .web(url: expandArguments("{{args.base}}/x", ["base": "ftp://user:secret@host"]), jsonPath: nil)
        await #expect(throws: ProviderError("ftp://user:***@host/x is not an http:// or https:// URL")) {
            try await WebProvider().measure(metric, arguments: [:])
        }
    }

    func templateMetric(_ set: ManifestSet) -> Metric? {
        var reader = CanaryStrategies.Reader(set: set)
        return set.resources.compactMap { reader.template($0) }.first?.metrics.first
    }
}
